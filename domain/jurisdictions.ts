/**
 * A directory of several levels (DOMAIN.md 26, docs/catalog.md "A directory of several levels"): the root
 * jurisdiction (the directory's own `jurisdiction`, `leadership`, `leadershipChannels`), the jurisdictions nested
 * under it (`jurisdictions:`, each with a parent, a level and its own leadership), and the jurisdiction of every
 * unit (`jurisdiction:`; absent, the root). A directory without `jurisdictions:` is one level: everything is in the
 * root, as before levels existed.
 *
 * The supervising office of a jurisdiction is not named: it is the unit (or units) in it that others answer to.
 * The pure rules live here: the tree, who is beneath whom, whose leadership receives a unit's circular, the levels
 * the report rolls up by, and the checks that refuse a bad tree (cycles, unknown ids, a unit supervised from
 * another branch, an office whose jurisdiction has no leadership).
 */
import type { Directory, Leader, UnitLevel } from './model';
import type { Path, Problem } from './problems';

/** The id of the root jurisdiction: a nested one may name it as its parent, a unit as its jurisdiction. */
export const ROOT_JURISDICTION = 'root';

export interface JurisdictionNode {
  id: string;
  name: string;
  /** Absent for the root. */
  parent?: string;
  level?: UnitLevel;
  /** 0 for the root. */
  depth: number;
  leadership: Leader[];
  leadershipChannels: string[];
  /** The jurisdictions directly under this one, in directory order. */
  children: string[];
  /** The units whose own jurisdiction this is, in directory order. */
  units: string[];
}

export interface JurisdictionTree {
  /** The root first, then the nested jurisdictions in directory order. */
  nodes: Map<string, JurisdictionNode>;
  /** The jurisdiction of each unit. */
  unitJurisdiction: Map<string, string>;
  /** Whether the directory has nested jurisdictions at all. */
  nested: boolean;
}

const trees = new WeakMap<Directory, JurisdictionTree>();

/** `parent: root` and no parent say the same. */
const parentOf = (parent: string | undefined) =>
  parent === undefined || parent === ROOT_JURISDICTION ? ROOT_JURISDICTION : parent;

/**
 * The tree of a valid directory (computed once per directory object: the web service asks on every request). A
 * unit or jurisdiction naming an unknown one is put under the root, and depth stops at a cycle, so that the tree of
 * a directory still being validated never loops; validation reports both.
 */
export function jurisdictionTree(directory: Directory): JurisdictionTree {
  const cached = trees.get(directory);
  if (cached) return cached;
  const nodes = new Map<string, JurisdictionNode>();
  nodes.set(ROOT_JURISDICTION, {
    id: ROOT_JURISDICTION,
    name: directory.jurisdiction,
    ...(directory.level ? { level: directory.level } : {}),
    depth: 0,
    leadership: directory.leadership,
    leadershipChannels: directory.leadershipChannels,
    children: [],
    units: [],
  });
  const nested = directory.jurisdictions ?? [];
  for (const j of nested) {
    if (j.id === ROOT_JURISDICTION || nodes.has(j.id)) continue;
    nodes.set(j.id, {
      id: j.id,
      name: j.name,
      parent: parentOf(j.parent),
      ...(j.level ? { level: j.level } : {}),
      depth: 0,
      leadership: j.leadership,
      leadershipChannels: j.leadershipChannels,
      children: [],
      units: [],
    });
  }
  for (const n of nodes.values()) {
    if (n.parent === undefined) continue;
    if (!nodes.has(n.parent)) n.parent = ROOT_JURISDICTION;
    nodes.get(n.parent)!.children.push(n.id);
  }
  for (const n of nodes.values()) {
    let depth = 0;
    for (let at: JurisdictionNode | undefined = n; at?.parent !== undefined && depth <= nodes.size; depth++)
      at = nodes.get(at.parent);
    n.depth = Math.min(depth, nodes.size);
  }
  const unitJurisdiction = new Map<string, string>();
  for (const u of directory.units) {
    const j = u.jurisdiction !== undefined && nodes.has(u.jurisdiction) ? u.jurisdiction : ROOT_JURISDICTION;
    if (unitJurisdiction.has(u.id)) continue;
    unitJurisdiction.set(u.id, j);
    nodes.get(j)!.units.push(u.id);
  }
  const tree = { nodes, unitJurisdiction, nested: nested.length > 0 };
  trees.set(directory, tree);
  return tree;
}

/** A jurisdiction and its ancestors, nearest first, ending with the root. */
export function chainOf(tree: JurisdictionTree, jurisdiction: string): JurisdictionNode[] {
  const chain: JurisdictionNode[] = [];
  for (let n = tree.nodes.get(jurisdiction); n && chain.length <= tree.nodes.size; n = tree.nodes.get(n.parent ?? ''))
    chain.push(n);
  return chain;
}

/** Whether `jurisdiction` is `ancestor` or lies beneath it. */
export function isWithin(tree: JurisdictionTree, jurisdiction: string, ancestor: string): boolean {
  return ancestor === ROOT_JURISDICTION || chainOf(tree, jurisdiction).some((n) => n.id === ancestor);
}

/** A jurisdiction and every one beneath it, top down. */
export function subtreeOf(tree: JurisdictionTree, jurisdiction: string): JurisdictionNode[] {
  const out: JurisdictionNode[] = [];
  const visit = (id: string) => {
    const n = tree.nodes.get(id);
    if (!n || out.length > tree.nodes.size) return;
    out.push(n);
    n.children.forEach(visit);
  };
  visit(jurisdiction);
  return out;
}

/** The units of a jurisdiction and of every one beneath it. */
export function unitsBeneath(tree: JurisdictionTree, jurisdiction: string): string[] {
  return subtreeOf(tree, jurisdiction).flatMap((n) => n.units);
}

/**
 * Who receives the level-3 circular of a unit: the leadership (and leadership channels) of the unit's own
 * jurisdiction; where that has none (a jurisdiction without an office of its own, whose units answer to an office
 * above), the nearest jurisdiction above that has. The root always has leadership.
 */
export function circularRecipientsOf(
  directory: Directory,
  unitId: string,
): { jurisdiction: string; leadership: Leader[]; leadershipChannels: string[] } {
  const tree = jurisdictionTree(directory);
  const chain = chainOf(tree, tree.unitJurisdiction.get(unitId) ?? ROOT_JURISDICTION);
  const n = chain.find((x) => x.leadership.length > 0) ?? tree.nodes.get(ROOT_JURISDICTION)!;
  return { jurisdiction: n.id, leadership: n.leadership, leadershipChannels: n.leadershipChannels };
}

/** The supervising offices: every unit some other unit answers to. */
export function officesOf(directory: Directory): Set<string> {
  return new Set(directory.units.map((u) => u.supervisor).filter((s): s is string => s !== undefined));
}

/** Levels in the words of a report (省级, 市级, 县级, 乡级); one not given is named by its depth (第2级). */
export const LEVEL_WORDS: Record<UnitLevel, string> = {
  province: '省级',
  city: '市级',
  county: '县级',
  township: '乡级',
};

/**
 * The level a unit's figures roll up to in the report: the unit's own `level` when it says one (a county
 * government supervised by the city is a county-level body), else its jurisdiction's, else its depth in the tree.
 */
export function reportLevelOf(
  tree: JurisdictionTree,
  unit: { id: string; level?: UnitLevel },
): { key: string; words: string; order: number } {
  const n = tree.nodes.get(tree.unitJurisdiction.get(unit.id) ?? ROOT_JURISDICTION)!;
  const level = unit.level ?? n.level;
  if (level) {
    const order = (['province', 'city', 'county', 'township'] as const).indexOf(level);
    return { key: level, words: LEVEL_WORDS[level], order };
  }
  return { key: `depth-${n.depth}`, words: `第${n.depth + 1}级`, order: 10 + n.depth };
}

/** A jurisdiction's name with the names above it (XX市 › 丁县), for pages and reports. */
export function jurisdictionPath(tree: JurisdictionTree, jurisdiction: string): string {
  return chainOf(tree, jurisdiction)
    .map((n) => n.name)
    .reverse()
    .join(' › ');
}

/**
 * The checks of a directory's levels, beside its other checks (domain/validate.ts): ids unique and not `root`, a
 * parent and a unit's jurisdiction that exist, no cycle of parents, a unit supervised from its own jurisdiction or
 * one above it (never from another branch, nor from below), an office whose jurisdiction has leadership for the
 * circular, and the leadership channels defined. Messages in Chinese; paths name the field.
 */
export function levelProblems(directory: Directory): Problem[] {
  const problems: Problem[] = [];
  const add = (path: Path, message: string) => problems.push({ document: 'directory', path, message });
  const nested = directory.jurisdictions ?? [];
  const index = new Map<string, number>();
  nested.forEach((j, i) => {
    if (j.id === ROOT_JURISDICTION) {
      add(
        ['jurisdictions', i, 'id'],
        `辖区编号 "${ROOT_JURISDICTION}" 已保留给单位名录顶层的辖区（${directory.jurisdiction}），请另取编号`,
      );
      return;
    }
    const first = index.get(j.id);
    if (first !== undefined)
      add(['jurisdictions', i, 'id'], `辖区编号 "${j.id}" 重复（与 jurisdictions[${first}] 相同）`);
    else index.set(j.id, i);
  });
  const known = (id: string) => id === ROOT_JURISDICTION || index.has(id);
  nested.forEach((j, i) => {
    if (j.parent !== undefined && !known(j.parent))
      add(
        ['jurisdictions', i, 'parent'],
        `上级辖区 "${j.parent}" 不存在：应为 jurisdictions 中某个辖区的编号，或不填（即顶层辖区 ${directory.jurisdiction}）`,
      );
  });
  // Cycles: walking up from each jurisdiction must reach the root. Each cycle is reported once, at its first entry.
  const parent = (id: string) => {
    const i = index.get(id);
    return i === undefined ? undefined : parentOf(nested[i]!.parent);
  };
  const inCycle = new Set<string>();
  nested.forEach((j, i) => {
    if (index.get(j.id) !== i || inCycle.has(j.id)) return;
    const seen: string[] = [];
    let at: string | undefined = j.id;
    while (at !== undefined && at !== ROOT_JURISDICTION && !seen.includes(at) && seen.length <= nested.length) {
      seen.push(at);
      at = parent(at);
    }
    if (at === j.id) {
      seen.forEach((x) => inCycle.add(x));
      add(
        ['jurisdictions', i, 'parent'],
        `上级辖区形成循环：${[...seen, j.id].join(' → ')}；辖区应逐级归属到顶层辖区（${directory.jurisdiction}）`,
      );
    }
  });
  // Channels of the nested leadership, as the root's are checked.
  const channels = new Map(directory.channels.map((c) => [c.name, c]));
  nested.forEach((j, i) =>
    j.leadershipChannels.forEach((name, k) => {
      const c = channels.get(name);
      if (!c)
        add(
          ['jurisdictions', i, 'leadershipChannels', k],
          `渠道 "${name}" 未定义：请先在 channels 中定义（name、kind）`,
        );
      else if (c.kind === 'sms')
        add(
          ['jurisdictions', i, 'leadershipChannels', k],
          `"${name}" 是短信渠道：短信发到收件人的手机，在任务清单的渠道步骤中以 "sms" 使用`,
        );
    }),
  );
  const units = new Map(directory.units.map((u, i) => [u.id, { u, i }]));
  const jurisdictionOf = (u: { jurisdiction?: string }) => u.jurisdiction ?? ROOT_JURISDICTION;
  directory.units.forEach((u, i) => {
    if (u.jurisdiction !== undefined && !known(u.jurisdiction))
      add(
        ['units', i, 'jurisdiction'],
        `辖区 "${u.jurisdiction}" 不存在：应为 jurisdictions 中某个辖区的编号，或不填（即顶层辖区 ${directory.jurisdiction}）`,
      );
  });
  // Above this line every id is checked; the rest reads the tree, and leaves out what is already refused.
  const usable = (id: string) => known(id) && !inCycle.has(id);
  const ancestors = (id: string): string[] => {
    const out: string[] = [];
    for (let at: string | undefined = id; at !== undefined; at = at === ROOT_JURISDICTION ? undefined : parent(at))
      out.push(at);
    return out;
  };
  const nameOf = (id: string) =>
    id === ROOT_JURISDICTION ? directory.jurisdiction : (nested[index.get(id)!]?.name ?? id);
  directory.units.forEach((u, i) => {
    const s = u.supervisor === undefined ? undefined : units.get(u.supervisor);
    if (!s || s.u.id === u.id) return;
    const own = jurisdictionOf(u);
    const theirs = jurisdictionOf(s.u);
    if (!usable(own) || !usable(theirs)) return;
    if (!ancestors(own).includes(theirs))
      add(
        ['units', i, 'supervisor'],
        `督察单位 "${s.u.id}"（${s.u.name}）属于辖区 ${nameOf(theirs)}，不是本单位所属辖区 ${nameOf(own)} 或其上级辖区：单位只能由本辖区或上级辖区的督察单位督办`,
      );
  });
  const reported = new Set<string>();
  for (const office of officesOf(directory)) {
    const o = units.get(office);
    if (!o) continue;
    const j = jurisdictionOf(o.u);
    if (j === ROOT_JURISDICTION || !usable(j) || reported.has(j)) continue;
    const at = index.get(j)!;
    if (nested[at]!.leadership.length > 0) continue;
    reported.add(j);
    add(
      ['jurisdictions', at, 'leadership'],
      `辖区 "${j}"（${nested[at]!.name}）有督察单位 ${o.u.id}（${o.u.name}），但没有领导（leadership）：本辖区单位逾期到第三级时，通报要发给本辖区领导，请至少填写一位`,
    );
  }
  return problems;
}

/**
 * Unit names as plans write them (市司法局, 区政府各部门, 各县〔区〕, 旗縣(市、區)) mapped to the directory's units and
 * tags. Plans are written for their own jurisdiction, so the level prefix (市, 区, 州, 县, 盟, 旗, 自治区) says
 * little: 区司法局 in a district's plan is the 司法局 of the directory at hand. Pure.
 */
import { matchingForm } from './text';

export interface DirectoryView {
  /**
   * `nested`: the unit belongs to a jurisdiction beneath the directory's root (levels, DOMAIN.md 26). A plan is the
   * plan of the root, so its groups (政府各部门, 各县〔区〕) name the root's units only; a nested unit is still found by
   * its own name.
   */
  units: { id: string; name: string; kind: string; tags: string[]; supervisor?: string; nested?: boolean }[];
}

export type Target = { unit: string } | { tag: string };

export interface Mapped {
  name: string;
  targets: Target[];
  /** How the name was matched, for the review comment; undefined for an exact name. */
  how?: string;
}

const LEVEL_PREFIX = /^(?:内蒙古自治区|自治区|自治州|全区|全市|全州|全县|盟市(?=[^、])|[省市区州县盟旗])(?=.{2,})/;
const FILLERS = /各|全|所属|有关|相关|本级|等|、/g;

/** A name reduced to what identifies a unit: simplified, no brackets, no fillers; `strip`: no level prefix. */
export function nameKey(name: string, strip = true): string {
  let k = matchingForm(name).replace(/\s+/g, '');
  k = k.replace(/[(（〔[【][^)）〕\]】]*[)）〕\]】]?/g, (m) => (/单位/.test(m) ? '' : m)); // 〔单位〕 adds nothing
  k = k.replace(/[(（〔[【)）〕\]】]/g, '');
  k = k.replace(FILLERS, '');
  k = k.replace(/人民政府/g, '政府');
  // 依法治市办, 依法治区办, 依法治县办: the same office at each level.
  k = k.replace(/依法治[省市区州县旗]/g, '依法治');
  if (!strip) return k;
  // One level prefix at most, and never down to a bare 政府: 县政府 and 市政府 are different governments.
  const stripped = k.replace(LEVEL_PREFIX, '');
  return stripped === '政府' ? k : stripped;
}

/** The plan's own level, from the first jurisdiction word of its title: 和平区…方案 -> 区, XX市… -> 市. */
export function planLevel(title: string): string | undefined {
  const m = matchingForm(title).match(/自治区|自治州|[省市州盟区县旗]/)?.[0];
  return m === '自治州' ? '州' : m;
}

// Groups of units named by their role rather than by name, as plans write them. Each is found in the directory by
// what its units are (kind) and what its tag says, never by a fixed tag name.
type Role = 'counties' | 'departments' | 'enforcement' | 'government' | 'streets' | 'city';
const ROLE_PATTERNS: [Role, RegExp][] = [
  ['enforcement', /行政执法部门|执法部门|执法机关/],
  [
    'counties',
    /^(?:旗)?县(?:市|区|市区)?(?:级)?(?:政府|人民政府)?$|^县区$|^旗县$|^县市(?:政府)?$|县级政府|^旗县级政府$/,
  ],
  ['streets', /街道(?:办事处)?|乡镇|苏木/],
  [
    'departments',
    /^(?:[市州区县]直)?(?:政府)?(?:组成)?部门(?:单位)?$|^直部门|委办局|^直属机构$|^政府工作部门$|^(?:主要)?(?:执行|实施|主管)部门$/,
  ],
  ['government', /^(?:各级)?政府$/],
  // 盟市, 市级, 地市: the level of the city itself in a provincial plan, i.e. the city's government and departments.
  ['city', /^(?:盟市|市级|地市|设区的市)行政机关$/],
  ['government', /^(?:盟市|地市|设区的市)(?:政府)?$/],
  ['departments', /^部门$/],
];

function roleTargets(role: Role, dir: DirectoryView): Target[] {
  const tagUnits = new Map<string, DirectoryView['units']>();
  for (const u of dir.units) if (!u.nested) for (const t of u.tags) tagUnits.set(t, [...(tagUnits.get(t) ?? []), u]);
  const tags = [...tagUnits.entries()];
  const pick = (test: (tag: string, units: DirectoryView['units']) => boolean): Target[] =>
    tags.filter(([t, us]) => test(t, us)).map(([t]) => ({ tag: t }));
  switch (role) {
    case 'enforcement':
      return pick((t) => /执法/.test(t));
    case 'counties':
      return pick((t, us) => /[县区旗]/.test(t) && us.every((u) => u.kind === 'county'));
    case 'streets':
      return pick((t, us) => us.every((u) => u.kind === 'street'));
    case 'departments':
      return pick((t, us) => /部门/.test(t) && !/执法|党|委部门/.test(t) && us.some((u) => u.kind === 'department'));
    case 'government':
      return dir.units.filter((u) => u.kind === 'government' && !u.nested).map((u) => ({ unit: u.id }));
    case 'city':
      return [...roleTargets('government', dir), ...roleTargets('departments', dir)];
  }
}

/** Maps one name to the directory; no targets when nothing fits (the caller lists it as unmapped). */
export function mapName(name: string, dir: DirectoryView, level?: string): Mapped {
  const key = nameKey(name);
  const full = nameKey(name, false);
  if (key === '') return { name, targets: [] };
  for (const u of dir.units)
    if (matchingForm(u.name) === matchingForm(name)) return { name, targets: [{ unit: u.id }] };
  const tagNames = new Set(dir.units.flatMap((u) => u.tags));
  for (const t of tagNames)
    if (nameKey(t, false) === full || t === name) return { name, targets: [{ tag: t }], how: `标签“${t}”` };
  const byKey = dir.units.filter((u) => nameKey(u.name) === key);
  if (byKey.length === 1) return { name, targets: [{ unit: byKey[0]!.id }], how: `按名称对应“${byKey[0]!.name}”` };
  // The plan's own level: in a district's plan 区政府 is the government itself and 区政府部门 its departments.
  const own = level ? full.match(new RegExp(`^${level}(政府(?:各|组成|工作)?部门|直部门|政府)$`)) : null;
  if (own) {
    const targets = roleTargets(own[1] === '政府' ? 'government' : 'departments', dir);
    if (targets.length) return { name, targets, how: `本级（${level}）${own[1] === '政府' ? '政府' : '部门'}` };
  }
  // 各级政府: the government itself and the county governments.
  if (/各级(?:人民)?政府/.test(matchingForm(name))) {
    const targets = [...roleTargets('government', dir), ...roleTargets('counties', dir)];
    if (targets.length) return { name, targets, how: '“各级政府”读作本级政府和各县（区）' };
  }
  for (const [role, pattern] of ROLE_PATTERNS) {
    if (!pattern.test(full) && !pattern.test(key)) continue;
    const targets = roleTargets(role, dir);
    if (targets.length) return { name, targets, how: `按类别对应${targets.map(describe).join('、')}` };
  }
  return { name, targets: [] };
}

function describe(t: Target): string {
  return 'tag' in t ? `标签“${t.tag}”` : `单位 ${t.unit}`;
}

/**
 * Splits a list of names as plans write it: 市委依法治市办、市政府办公室 or 州发改委,工商局; separators inside
 * brackets (旗縣(市、區)) do not split.
 */
export function splitNames(list: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if ('(（〔[【'.includes(ch)) depth++;
    if (')）〕]】'.includes(ch)) depth = Math.max(0, depth - 1);
    if (depth === 0 && '、,，;；/'.includes(ch)) {
      if (current.trim()) names.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  if (current.trim()) names.push(current.trim());
  return names.map((n) => n.replace(/[。.]+$/, '')).filter((n) => n !== '');
}

// Group words inside a duty's own sentence name who must do it when the plan gives no 责任单位. They are the
// subjects of administrative sentences: 各级政府, 政府各部门, 各县(区), 旗县(市、区), 县级政府, 盟市, 区政府 (before
// 及/和/全体会议: the government itself), 主要执行部门.
const SUBJECTS = new RegExp(
  [
    '各级(?:人民)?政府',
    '[市州区县]直各(?:行政执法)?部门(?:〔单位〕|\\(单位\\))?',
    '政府(?:各|组成)?部门',
    '(?<=和|及其|及)各?部门',
    '(?:主要)?(?:执行|实施)部门',
    '[旗]?县级(?:人民)?政府',
    '(?:[州市盟]、)?县市(?:人民)?政府',
    '各?旗?县[(〔](?:市、)?区[)〕]',
    '盟市行政机关',
    '各?盟市(?=、|政府)',
    '各(?:街道|乡镇|乡|镇)(?:办事处)?',
    '(?<![\\u4e00-\\u9fff])各部门(?=应当|应|要|每|于|在)',
    '(?:各|全[市区州县])?行政执法部门',
    '(?<![本级一同])[市区州县](?:人民)?政府(?=及|和|、|全体会议|常务会议|在|每|要|应)',
    '(?<![各本级])政府(?=在|每年|应当|要)',
  ].join('|'),
  'g',
);

/** The group words of a sentence that name who must act (used when no 责任单位 is given). */
export function subjectNames(norm: string): string[] {
  const found: string[] = [];
  for (const m of norm.match(SUBJECTS) ?? []) {
    // 州、县市人民政府: two governments sharing one noun.
    const shared = m.match(/^([州市盟])、(.+)$/);
    if (shared) found.push(`${shared[1]}政府`, shared[2]!);
    else found.push(m);
  }
  return [...new Set(found)];
}

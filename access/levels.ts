/**
 * A jurisdiction named on the command line (`duban status --jurisdiction`, `duban report --jurisdiction`), checked
 * against the directory as registered (or as given): what it is called, and the units of it and every jurisdiction
 * beneath it (issue 24, docs/catalog.md "A directory of several levels").
 */
import {
  ROOT_JURISDICTION,
  jurisdictionPath,
  jurisdictionTree,
  subtreeOf,
  unitsBeneath,
} from '../domain/jurisdictions';
import type { Directory } from '../domain/model';

export interface NamedJurisdiction {
  id: string;
  /** XX市 › 乙县 */
  path: string;
  /** The units of the jurisdiction and of every one beneath it. */
  units: Set<string>;
  /** The jurisdictions of its subtree, itself first. */
  jurisdictions: Set<string>;
}

/** The jurisdiction, or a refusal in Chinese naming the ids there are. */
export function namedJurisdiction(directory: Directory, id: string): NamedJurisdiction | { error: string } {
  const tree = jurisdictionTree(directory);
  if (!tree.nodes.has(id)) {
    const known = [...tree.nodes.values()].map((n) => `${n.id}（${n.name}）`);
    const shown = known.slice(0, 20).join('、') + (known.length > 20 ? ` 等${known.length}个` : '');
    return { error: `--jurisdiction “${id}”不是单位名录中的辖区；可用：${shown}` };
  }
  return {
    id,
    path: jurisdictionPath(tree, id),
    units: new Set(unitsBeneath(tree, id)),
    jurisdictions: new Set(subtreeOf(tree, id).map((n) => n.id)),
  };
}

export { ROOT_JURISDICTION };

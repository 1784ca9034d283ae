/**
 * Just enough Markdown for the documentation checks: the links of a page (outside code) and the anchors its
 * headings get on GitHub, and the problems of a set of pages (links to missing files or headings).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

export interface Link {
  readonly target: string;
  readonly line: number;
}

/** The page's lines with fenced code blocks blanked (their text is no Markdown). */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return '';
    }
    if (marker !== undefined) {
      fence = marker;
      return '';
    }
    return line;
  });
}

/** Inline links and images `[text](target)`, `![alt](target "title")`, and reference definitions `[x]: target`. */
export function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  proseLines(markdown).forEach((raw, i) => {
    const line = raw.replace(/`[^`]*`/g, '``');
    for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ target: m[1]!, line: i + 1 });
    }
    const ref = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(line);
    if (ref) links.push({ target: ref[1]!, line: i + 1 });
  });
  return links;
}

/** The anchor GitHub gives a heading: lower case, punctuation dropped, each space a hyphen. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a page's headings, repeated ones numbered as GitHub does (`x`, `x-1`, `x-2`). */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const m = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** A link that leaves the site (`https:`, `mailto:`, ...) rather than pointing into the repository. */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
}

/**
 * Every relative link of a page that does not resolve: the file (or folder) must exist inside `root`, outside
 * node_modules, and an `#anchor` must name a heading of the Markdown page it points at.
 */
export function brokenLinks(root: string, page: string): string[] {
  const text = readFileSync(page, 'utf8');
  const rel = path.relative(root, page);
  const problems: string[] = [];
  for (const { target, line } of linksOf(text)) {
    if (isExternal(target)) continue;
    const hash = target.indexOf('#');
    const filePart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const file = filePart === '' ? page : path.resolve(path.dirname(page), filePart);
    const inRepo = path.relative(root, file);
    const where = `${rel}:${line}: ${target}`;
    if (
      inRepo.startsWith('..') ||
      path.isAbsolute(inRepo) ||
      inRepo.split(path.sep).includes('node_modules')
    ) {
      problems.push(`${where}: points outside the repository`);
      continue;
    }
    if (!existsSync(file)) {
      problems.push(`${where}: no such file ${inRepo}`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!statSync(file).isFile() || !file.endsWith('.md')) {
      problems.push(`${where}: an anchor on a file that is not a Markdown page`);
    } else if (!anchorsOf(readFileSync(file, 'utf8')).has(anchor)) {
      problems.push(`${where}: ${inRepo} has no heading #${anchor}`);
    }
  }
  return problems;
}

/**
 * The README is the front door and docs/ holds one page per stage: the README stays short, links every page,
 * and no link of the README or a page points at a file or heading that is not there.
 */
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { anchorsOf, brokenLinks, isExternal, linksOf, slug } from './markdown.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = path.join(ROOT, 'README.md');
const DOCS = path.join(ROOT, 'docs');
const README_MAX_LINES = 220;

/** Every file under a folder, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/** The files a page links to (relative links only, without anchors), as absolute paths. */
function linkedFiles(page: string): Set<string> {
  const out = new Set<string>();
  for (const { target } of linksOf(readFileSync(page, 'utf8'))) {
    if (isExternal(target) || target.startsWith('#')) continue;
    out.add(path.resolve(path.dirname(page), decodeURIComponent(target.split('#')[0]!)));
  }
  return out;
}

/** The files of docs/ that are not linked: top-level pages from the README, the rest from the README or a page. */
function unlinkedDocs(readme: string, docs: string): string[] {
  const fromReadme = linkedFiles(readme);
  const pages = filesUnder(docs).filter((f) => f.endsWith('.md') && !f.includes(path.sep));
  const fromAny = new Set([...fromReadme, ...pages.flatMap((p) => [...linkedFiles(path.join(docs, p))])]);
  return filesUnder(docs).filter((f) => {
    const file = path.join(docs, f);
    return f.includes(path.sep) ? !fromAny.has(file) : !fromReadme.has(file);
  });
}

function markdownPages(): string[] {
  return [
    README,
    ...filesUnder(DOCS)
      .filter((f) => f.endsWith('.md'))
      .map((f) => path.join(DOCS, f)),
  ];
}

describe('README and docs/', () => {
  it(`the README is a front door of at most ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync(README, 'utf8').trimEnd().split('\n').length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('the README links every file in docs/ (files in its subfolders may be linked from a page instead)', () => {
    expect(unlinkedDocs(README, DOCS)).toEqual([]);
  });

  it('every relative link of the README and of docs/*.md names a file in the repository, and every #anchor a heading', () => {
    const pages = markdownPages();
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.flatMap((p) => brokenLinks(ROOT, p))).toEqual([]);
  });
});

describe('the checks themselves', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mds-docs-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('take the anchors GitHub gives headings, and skip code blocks and inline code', () => {
    expect(slug('The main job: `mds local up`')).toBe('the-main-job-mds-local-up');
    expect(slug('What it costs: an estimate for 1,000 events/s')).toBe(
      'what-it-costs-an-estimate-for-1000-eventss',
    );
    expect(slug('Network, Kafka and the dbt image')).toBe('network-kafka-and-the-dbt-image');
    const page =
      '# A\n\n## Tests\n\n## Tests\n\n```sh\n# not a heading [x](gone.md)\n```\n\n`[y](gone.md)` [z](b.md#a)\n';
    expect([...anchorsOf(page)]).toEqual(['a', 'tests', 'tests-1']);
    expect(linksOf(page).map((l) => l.target)).toEqual(['b.md#a']);
  });

  it('find a link to a missing file, a missing heading, a path outside the repository, and an unlinked page', () => {
    const root = path.join(dir, 'repo');
    mkdirSync(path.join(root, 'docs'), { recursive: true });
    writeFileSync(path.join(root, 'docs/a.md'), '# Page A\n\n## Settings\n');
    writeFileSync(path.join(root, 'docs/b.md'), '# Page B\n');
    writeFileSync(
      path.join(root, 'README.md'),
      '# R\n\n[a](docs/a.md#settings) [gone](docs/gone.md) [bad anchor](docs/a.md#nope) [out](../x.md) [here](#r)\n',
    );
    expect(brokenLinks(root, path.join(root, 'README.md'))).toEqual([
      'README.md:3: docs/gone.md: no such file docs/gone.md',
      'README.md:3: docs/a.md#nope: docs/a.md has no heading #nope',
      'README.md:3: ../x.md: points outside the repository',
    ]);
    expect(unlinkedDocs(path.join(root, 'README.md'), path.join(root, 'docs'))).toEqual(['b.md']);
  });
});

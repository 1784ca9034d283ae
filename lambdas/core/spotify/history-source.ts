/**
 * Where export files come from: JSON files, folders and the zip as Spotify sends it, locally (paths) or from
 * any random-access reader (an S3 object read by ranged GETs). A zip is opened through its central directory
 * first (yauzl reads the end-of-central-directory record, then the directory), so a truncated zip is refused
 * before any of its members is read. In a zip or a folder only `Streaming_History_Audio_*.json` files are
 * imported (the export also holds `Streaming_History_Video_*.json` and a PDF); the others are counted as skipped.
 * A JSON file named on its own is imported whatever its name.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { errorMessage } from '../errors.ts';

export type ExportItem =
  | { readonly kind: 'file'; readonly name: string; readonly open: () => Promise<Readable> }
  | { readonly kind: 'skipped'; readonly name: string }
  | { readonly kind: 'refused'; readonly name: string; readonly message: string };

/** The members of an export that are imported. */
export const AUDIO_HISTORY_FILE = /^Streaming_History_Audio_.*\.json$/;

export const isAudioHistoryFile = (path: string): boolean => AUDIO_HISTORY_FILE.test(basename(path));

/** The items of an opened zip, in central-directory order; each member must be read before the next is asked for. */
export async function* zipItems(zipName: string, zip: yauzl.ZipFile): AsyncGenerator<ExportItem> {
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith('/')) continue; // a directory
      const name = `${zipName}:${entry.fileName}`;
      if (!isAudioHistoryFile(entry.fileName)) {
        yield { kind: 'skipped', name };
        continue;
      }
      yield { kind: 'file', name, open: () => zip.openReadStreamPromise(entry) };
    }
  } catch (err) {
    yield {
      kind: 'refused',
      name: zipName,
      message: `${zipName}: the zip's directory cannot be read (${errorMessage(err)})`,
    };
  } finally {
    zip.close();
  }
}

/** Opens a zip read through `reader` (e.g. ranged GETs of an S3 object of `size` bytes). */
export async function* zipFromReader(
  zipName: string,
  reader: yauzl.RandomAccessReader,
  size: number,
): AsyncGenerator<ExportItem> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromRandomAccessReaderPromise(reader, size, { lazyEntries: true, autoClose: false });
  } catch (err) {
    yield { kind: 'refused', name: zipName, message: zipRefusal(zipName, err) };
    return;
  }
  yield* zipItems(zipName, zip);
}

const zipRefusal = (zipName: string, err: unknown): string =>
  `${zipName}: not a readable zip (${errorMessage(err)}); a download that stopped early leaves a truncated zip: download it again`;

/** The items of local paths: JSON files, folders (searched recursively) and zips, in the order given. */
export async function* localItems(paths: readonly string[]): AsyncGenerator<ExportItem> {
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      yield { kind: 'refused', name: path, message: `${path}: cannot be read (${errorMessage(err)})` };
      continue;
    }
    if (info.isDirectory()) {
      const names = (await readdir(path, { recursive: true, withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) => join(d.parentPath, d.name))
        .sort();
      for (const file of names) {
        if (file.toLowerCase().endsWith('.zip')) yield* localZip(file);
        else if (isAudioHistoryFile(file)) yield localFile(file);
        else yield { kind: 'skipped', name: file };
      }
    } else if (path.toLowerCase().endsWith('.zip')) {
      yield* localZip(path);
    } else if (path.toLowerCase().endsWith('.json')) {
      yield localFile(path);
    } else {
      yield {
        kind: 'refused',
        name: path,
        message: `${path}: not a .json file, a .zip or a folder (give the export's zip, its folder or its Streaming_History_Audio_*.json files)`,
      };
    }
  }
}

const localFile = (path: string): ExportItem => ({
  kind: 'file',
  name: path,
  open: () => Promise.resolve(createReadStream(path)),
});

async function* localZip(path: string): AsyncGenerator<ExportItem> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
  } catch (err) {
    yield { kind: 'refused', name: path, message: zipRefusal(path, err) };
    return;
  }
  yield* zipItems(path, zip);
}

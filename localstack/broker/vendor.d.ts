/** Types for the two codec libraries that ship none (their CommonJS exports, as used here). */
declare module 'lz4js' {
  /** Upper bound of the decompressed size of one LZ4 frame, read from its header or its block sizes. */
  export function decompressBound(src: Uint8Array): number;
  /** Decompresses one LZ4 frame into at most `maxSize` bytes. */
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  /** Compresses into one LZ4 frame. */
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
  const lz4: {
    decompressBound: typeof decompressBound;
    decompress: typeof decompress;
    compress: typeof compress;
  };
  export default lz4;
}

declare module 'snappyjs' {
  /** Decompresses raw snappy (no framing); throws on an invalid bitstream or a length above `maxLength`. */
  export function uncompress<T extends Uint8Array>(compressed: T, maxLength?: number): T;
  export function compress<T extends Uint8Array>(uncompressed: T): T;
  const snappy: { uncompress: typeof uncompress; compress: typeof compress };
  export default snappy;
}

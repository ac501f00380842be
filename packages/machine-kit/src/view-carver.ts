/**
 * Typed views of one ArrayBuffer, handed out in order: a machine's arrays in one allocation. Each
 * ArrayBuffer lives outside V8's heap and costs an allocation, a zeroing and a finaliser the
 * garbage collector tracks; a machine with a dozen of them cost more to build than to boot.
 */
export class ViewCarver {
  readonly buffer: ArrayBuffer;
  private float64At = 0;
  private int32At: number;
  private uint8At: number;

  /** Room for `float64s` 8-byte, then `int32s` 4-byte, then `bytes` 1-byte elements (each kind aligned). */
  constructor(
    private readonly float64s: number,
    private readonly int32s: number,
    private readonly bytes: number,
  ) {
    this.int32At = float64s * 8;
    this.uint8At = this.int32At + int32s * 4;
    this.buffer = new ArrayBuffer(this.uint8At + bytes);
  }

  float64(n: number): Float64Array {
    const view = new Float64Array(this.buffer, this.float64At, n);
    this.float64At += n * 8;
    if (this.float64At > this.float64s * 8) throw new Error('internal: ViewCarver float64 room exceeded');
    return view;
  }

  int32(n: number): Int32Array {
    const view = new Int32Array(this.buffer, this.int32At, n);
    this.int32At += n * 4;
    if (this.int32At > this.float64s * 8 + this.int32s * 4) throw new Error('internal: ViewCarver int32 room exceeded');
    return view;
  }

  uint8(n: number): Uint8Array {
    const view = new Uint8Array(this.buffer, this.uint8At, n);
    this.uint8At += n;
    return view;
  }
}

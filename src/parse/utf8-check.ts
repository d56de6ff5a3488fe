/**
 * The offset (from `start`) of the first byte of `buf[start, end)` that does not begin a
 * well-formed UTF-8 sequence (Unicode 15, table 3-7: no overlong forms, no surrogates, nothing
 * past U+10FFFF), or -1 when the bytes are valid UTF-8. `isUtf8` says whether; this says where,
 * for a rejected row's reason.
 */
export function invalidUtf8At(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const b = buf[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i - start;
    if (i + need >= end) return i - start;
    const second = buf[i + 1] as number;
    if (second < lo || second > hi) return i - start;
    for (let k = 2; k <= need; k++) {
      const c = buf[i + k] as number;
      if (c < 0x80 || c > 0xbf) return i - start;
    }
    i += need + 1;
  }
  return -1;
}

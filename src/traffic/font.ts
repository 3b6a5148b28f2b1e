/**
 * A 3x5 bitmap font, so plots carry numbers and phase names without system fonts or a
 * font dependency. Letters share one (capital) shape per letter; unknown characters draw '?'.
 */

export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;
/** Pixels from one glyph's left edge to the next, at scale 1. */
export const GLYPH_ADVANCE = 4;

const GLYPHS: Record<string, string> = {
  '0': '### #.# #.# #.# ###',
  '1': '.#. ##. .#. .#. ###',
  '2': '### ..# ### #.. ###',
  '3': '### ..# .## ..# ###',
  '4': '#.# #.# ### ..# ..#',
  '5': '### #.. ### ..# ###',
  '6': '### #.. ### #.# ###',
  '7': '### ..# ..# .#. .#.',
  '8': '### #.# ### #.# ###',
  '9': '### #.# ### ..# ###',
  a: '.#. #.# ### #.# #.#',
  b: '##. #.# ##. #.# ##.',
  c: '.## #.. #.. #.. .##',
  d: '##. #.# #.# #.# ##.',
  e: '### #.. ##. #.. ###',
  f: '### #.. ##. #.. #..',
  g: '.## #.. #.# #.# .##',
  h: '#.# #.# ### #.# #.#',
  i: '### .#. .#. .#. ###',
  j: '..# ..# ..# #.# .#.',
  k: '#.# #.# ##. #.# #.#',
  l: '#.. #.. #.. #.. ###',
  m: '#.# ### ### #.# #.#',
  n: '##. #.# #.# #.# #.#',
  o: '.#. #.# #.# #.# .#.',
  p: '##. #.# ##. #.. #..',
  q: '.#. #.# #.# ##. .##',
  r: '##. #.# ##. #.# #.#',
  s: '.## #.. .#. ..# ##.',
  t: '### .#. .#. .#. .#.',
  u: '#.# #.# #.# #.# ###',
  v: '#.# #.# #.# #.# .#.',
  w: '#.# #.# ### ### #.#',
  x: '#.# #.# .#. #.# #.#',
  y: '#.# #.# .#. .#. .#.',
  z: '### ..# .#. #.. ###',
  ' ': '... ... ... ... ...',
  '-': '... ... ### ... ...',
  '.': '... ... ... ... .#.',
  ',': '... ... ... .#. #..',
  ':': '... .#. ... .#. ...',
  '#': '#.# ### #.# ### #.#',
  '/': '..# ..# .#. #.. #..',
  '%': '#.# ..# .#. #.. #.#',
  '(': '.#. #.. #.. #.. .#.',
  ')': '.#. ..# ..# ..# .#.',
  '?': '### ..# .## ... .#.',
};

/** Rows of booleans (5 rows of 3) for one character. */
export function glyph(ch: string): readonly (readonly boolean[])[] {
  const g = GLYPHS[ch.toLowerCase()] ?? GLYPHS['?']!;
  return g.split(' ').map((row) => [...row].map((c) => c === '#'));
}

export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * GLYPH_ADVANCE - (GLYPH_ADVANCE - GLYPH_WIDTH)) * scale;
}

// The keys of the review commands as package.json binds them, for CodeLens titles and messages.

const KEYS = {
  accept: { other: "Ctrl+Alt+Y", mac: "⌥⌘Y" },
  reject: { other: "Ctrl+Alt+N", mac: "⌥⌘N" },
  next: { other: "Alt+F5", mac: "⌥F5" },
} as const;

/** " (Ctrl+Alt+Y)": the key of a review command on this platform, with a leading space. */
export function keyHint(command: keyof typeof KEYS, platform: string = process.platform): string {
  return ` (${platform === "darwin" ? KEYS[command].mac : KEYS[command].other})`;
}

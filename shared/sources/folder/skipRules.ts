/** Names of files that are being written by someone else (Office locks, partial downloads). */
const TEMPORARY = [/^~\$/, /\.tmp$/i, /\.part$/i, /\.crdownload$/i, /^\.~lock\./, /\.partial$/i];

export function isHidden(name: string): boolean {
  return name.startsWith('.');
}

export function isTemporary(name: string): boolean {
  return TEMPORARY.some((re) => re.test(name));
}

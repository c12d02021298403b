// Every string that leaves the engine (logs, reports, errors, events) passes through redact().
const secrets = new Set<string>();

export function registerSecret(secret: string): void {
  if (secret.length >= 4) secrets.add(secret);
}

export function redact(text: string): string {
  let out = text
    .replace(/(postgres(?:ql)?:\/\/[^:@/\s]*):[^@\s]*@/gi, '$1:****@')
    .replace(/(password=)[^&\s]*/gi, '$1****');
  for (const secret of secrets) {
    out = out.split(secret).join('****');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join('****');
  }
  return out;
}

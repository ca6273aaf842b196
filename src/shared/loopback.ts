// Whether a host name or address stays on this machine: the relay serves plain ws:// there
// without asking, and the engine connects to one there without --insecure.

/** `localhost`, 127.0.0.0/8 and ::1 (also bracketed, as a URL's hostname writes it). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^(0{0,4}:){7}0{0,3}1$/.test(h) ||
    h === '::1' ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
  );
}

// A round initial in one of a few colours, the same colour for a name everywhere.
const AVATAR_COLOURS = 8;

export function avatarColour(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return h % AVATAR_COLOURS;
}

export function Avatar({
  name,
  online,
  size = 'md',
}: {
  name: string;
  online?: boolean;
  size?: 'sm' | 'md';
}) {
  const initial = [...name][0]?.toUpperCase() ?? '?';
  return (
    <span className={`avatar avatar-${size} avatar-c${avatarColour(name)}`} aria-hidden="true">
      {initial}
      {online !== undefined && (
        <span className={online ? 'presence-dot online' : 'presence-dot offline'} />
      )}
    </span>
  );
}

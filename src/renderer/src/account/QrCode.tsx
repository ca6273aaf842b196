// A QR code drawn by React: uqr encodes the text into a matrix of modules, and the dark ones
// become one <path> of unit squares (qrPath). No SVG markup from anywhere is injected.
import { useMemo } from 'react';
import { encode } from 'uqr';
import { qrPath } from '../model/account.ts';

export function QrCode({
  text,
  label,
  size = 168,
}: {
  text: string;
  label: string;
  size?: number;
}) {
  const { path, modules } = useMemo(() => {
    const qr = encode(text, { ecc: 'M', border: 2 });
    return { path: qrPath(qr.data), modules: qr.data.length };
  }, [text]);
  return (
    <svg
      className="qr-code"
      role="img"
      aria-label={label}
      data-testid="link-qr"
      width={size}
      height={size}
      viewBox={`0 0 ${modules} ${modules}`}
      shapeRendering="crispEdges"
    >
      <rect width={modules} height={modules} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}

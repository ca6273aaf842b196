// Small inline SVG icons (no icon font, no external files: the CSP allows only 'self').
// They inherit the text colour; every button that shows one alone carries an aria-label.
import type { ReactNode } from 'react';

function Svg({ children, className }: { children: ReactNode; className?: string }) {
  return (
    <svg
      className={className === undefined ? 'icon' : `icon ${className}`}
      viewBox="0 0 24 24"
      width="18"
      height="18"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

export const ClockIcon = () => (
  <Svg className="icon-status">
    <circle cx="12" cy="12" r="8" />
    <path d="M12 8v4l2.5 2" />
  </Svg>
);

export const CheckIcon = () => (
  <Svg className="icon-status">
    <path d="M5 12.5l4.5 4.5L19 7.5" />
  </Svg>
);

export const DoubleCheckIcon = () => (
  <Svg className="icon-status icon-double">
    <path d="M2 12.5l4.5 4.5L16 7.5" />
    <path d="M11.5 16.5l.5.5L21.5 7.5" />
  </Svg>
);

export const AlertIcon = () => (
  <Svg>
    <circle cx="12" cy="12" r="9" />
    <path d="M12 7.5v5.5" />
    <path d="M12 16.5v.01" />
  </Svg>
);

export const SendIcon = () => (
  <Svg>
    <path d="M4 12l16-8-6 16-2.5-6.5z" />
    <path d="M11.5 13.5L20 4" />
  </Svg>
);

export const AttachIcon = () => (
  <Svg>
    <path d="M20 11.5l-8.2 8.2a5 5 0 01-7.1-7.1l8.5-8.5a3.4 3.4 0 014.8 4.8l-8.5 8.5a1.7 1.7 0 01-2.4-2.4l7.8-7.8" />
  </Svg>
);

export const SettingsIcon = () => (
  <Svg>
    <circle cx="12" cy="12" r="3" />
    <path d="M19.4 15a1.7 1.7 0 00.3 1.8l.1.1a2 2 0 11-2.8 2.8l-.1-.1a1.7 1.7 0 00-1.8-.3 1.7 1.7 0 00-1 1.5V21a2 2 0 11-4 0v-.1a1.7 1.7 0 00-1.1-1.5 1.7 1.7 0 00-1.8.3l-.1.1a2 2 0 11-2.8-2.8l.1-.1a1.7 1.7 0 00.3-1.8 1.7 1.7 0 00-1.5-1H3a2 2 0 110-4h.1a1.7 1.7 0 001.5-1.1 1.7 1.7 0 00-.3-1.8l-.1-.1a2 2 0 112.8-2.8l.1.1a1.7 1.7 0 001.8.3H9a1.7 1.7 0 001-1.5V3a2 2 0 114 0v.1a1.7 1.7 0 001 1.5 1.7 1.7 0 001.8-.3l.1-.1a2 2 0 112.8 2.8l-.1.1a1.7 1.7 0 00-.3 1.8V9a1.7 1.7 0 001.5 1H21a2 2 0 110 4h-.1a1.7 1.7 0 00-1.5 1z" />
  </Svg>
);

export const NetworkIcon = () => (
  <Svg>
    <path d="M3 17l4-6 4 3 4-8 6 11" />
    <path d="M3 21h18" />
  </Svg>
);

export const SearchIcon = () => (
  <Svg>
    <circle cx="11" cy="11" r="6.5" />
    <path d="M20 20l-4.2-4.2" />
  </Svg>
);

export const CloseIcon = () => (
  <Svg>
    <path d="M6 6l12 12M18 6L6 18" />
  </Svg>
);

export const TrashIcon = () => (
  <Svg>
    <path d="M5 7h14M10 7V5h4v2M7 7l1 12h8l1-12" />
  </Svg>
);

export const ArrowDownIcon = () => (
  <Svg>
    <path d="M12 5v14M6 13l6 6 6-6" />
  </Svg>
);

export const RetryIcon = () => (
  <Svg>
    <path d="M20 11a8 8 0 10-2.3 5.7" />
    <path d="M20 4v7h-7" />
  </Svg>
);

export const BackIcon = () => (
  <Svg>
    <path d="M15 5l-7 7 7 7" />
  </Svg>
);

export const ChatIcon = () => (
  <Svg>
    <path d="M20 15a2 2 0 01-2 2H8l-4 4V5a2 2 0 012-2h12a2 2 0 012 2z" />
  </Svg>
);

export const PauseIcon = () => (
  <Svg>
    <path d="M9 5v14M15 5v14" />
  </Svg>
);

export const PlayIcon = () => (
  <Svg>
    <path d="M7 4.5v15l12-7.5z" />
  </Svg>
);

export const DownloadIcon = () => (
  <Svg>
    <path d="M12 4v11M7 10l5 5 5-5" />
    <path d="M5 20h14" />
  </Svg>
);

export const OpenIcon = () => (
  <Svg>
    <path d="M14 4h6v6M20 4l-9 9" />
    <path d="M18 14v4a2 2 0 01-2 2H6a2 2 0 01-2-2V8a2 2 0 012-2h4" />
  </Svg>
);

export const FolderIcon = () => (
  <Svg>
    <path d="M3 7a2 2 0 012-2h4l2 2h8a2 2 0 012 2v8a2 2 0 01-2 2H5a2 2 0 01-2-2z" />
  </Svg>
);

/** A sheet with a folded corner and, inside it, a mark for the kind of file. */
export const FileKindIcon = ({ kind }: { kind: FileIconKind }) => (
  <svg
    className={`icon file-kind-icon file-kind-${kind}`}
    viewBox="0 0 24 24"
    width="28"
    height="28"
    fill="none"
    stroke="currentColor"
    strokeWidth="1.6"
    strokeLinecap="round"
    strokeLinejoin="round"
    aria-hidden="true"
    focusable="false"
  >
    <path d="M6 2.5h8l4.5 4.5v13a1.5 1.5 0 01-1.5 1.5H6a1.5 1.5 0 01-1.5-1.5V4A1.5 1.5 0 016 2.5z" />
    <path d="M14 2.5V7h4.5" />
    {KIND_MARKS[kind]}
  </svg>
);

export type FileIconKind = 'image' | 'video' | 'audio' | 'pdf' | 'archive' | 'text' | 'generic';

const KIND_MARKS: Record<FileIconKind, ReactNode> = {
  image: (
    <>
      <circle cx="9.5" cy="11" r="1.3" />
      <path d="M7 18l3.5-3.5 2 2 2.5-3 2 4.5z" />
    </>
  ),
  video: <path d="M10 11v6l5-3z" />,
  audio: (
    <>
      <path d="M10.5 17.5V11l4.5-1v6" />
      <circle cx="9.3" cy="17.5" r="1.2" />
      <circle cx="13.8" cy="16" r="1.2" />
    </>
  ),
  pdf: <path d="M8 17h8M8 14h8M8 11h4" />,
  archive: <path d="M11.5 3v2M11.5 7v2M11.5 11v2M10.5 15h2v3h-2z" />,
  text: <path d="M8 11h8M8 14h8M8 17h5" />,
  generic: null,
};

/** A shield: the conversation's safety number (with a tick when verified). */
export const ShieldIcon = ({ checked = false }: { checked?: boolean }) => (
  <Svg>
    <path d="M12 3l7 3v5c0 4.5-3 8.5-7 10-4-1.5-7-5.5-7-10V6z" />
    {checked && <path d="M9 12l2 2 4-4" />}
  </Svg>
);

// Which files the app shows inline as an image, in both the core and the renderer.

/** The raster formats every Chromium decodes. Not SVG: it is a document that can run script. */
const PREVIEWABLE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/**
 * Images up to this size come through the API (`filePreview`) as data; larger ones are shown
 * by address where the host serves files (the browser host), and as an icon elsewhere.
 */
export const PREVIEW_MAX_BYTES = 8 * 1024 * 1024;

/** Whether the app may show a file of this type inline as an image. */
export function isPreviewableImage(type: string): boolean {
  const essence = (type.split(';', 1)[0] ?? '').trim().toLowerCase();
  return PREVIEWABLE_IMAGES.has(essence);
}

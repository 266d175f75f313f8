// The static assets of the pages (stylesheet and the bundled browser scripts), runtime-agnostic: the Node entry loads
// them from public/ (src/node-assets.ts); a Workers entry can pass the same map from its assets binding. Each asset
// carries a content hash, which the pages put in the asset URL (`?v=`), so a changed asset is never served from a
// stale cache and an unchanged one can be cached for good.

export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
  /** Hex SHA-256 prefix of the body. */
  hash: string;
}

/** The assets by URL name (the path under `/assets/`). */
export type AssetMap = ReadonlyMap<string, Asset>;

/** The assets the pages use, by their URL names under /assets/ (each one is a documented route). */
export const ASSET_NAMES = ['certrail.css', 'favicon.svg', 'verify-page.js', 'search-page.js'] as const;
export type AssetName = (typeof ASSET_NAMES)[number];

export const ASSET_TYPES: Readonly<Record<AssetName, string>> = {
  'certrail.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
  'verify-page.js': 'text/javascript; charset=utf-8',
  'search-page.js': 'text/javascript; charset=utf-8',
};

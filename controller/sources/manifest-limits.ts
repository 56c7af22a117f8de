/** The manifest folder's scan limits: a module of its own so that the CLI's flags load no parser. */
/** Limits on what one scan of a manifest folder reads. */
export interface ManifestLimits {
  /** Larger files are refused unread. */
  maxFileBytes: number;
  /** YAML documents (`---`) per file. */
  maxDocuments: number;
  /** Manifest files per folder scan. */
  maxFiles: number;
  /** Folder levels below the manifest folder. */
  maxDepth: number;
}

/**
 * 4 MiB per file: more than twice the largest object Kubernetes stores (etcd's
 * 1.5 MiB), and about a fifth of a second to parse on a slow core. 5,000 documents: 50
 * times what a generated file usually holds, but bounding the memory of a file
 * of empty documents. 10,000 files and 16 levels: far beyond a hand-kept or
 * generated folder, small enough to scan in a few seconds.
 */
export const DEFAULT_MANIFEST_LIMITS: Readonly<ManifestLimits> = {
  maxFileBytes: 4 * 1024 * 1024,
  maxDocuments: 5000,
  maxFiles: 10_000,
  maxDepth: 16,
};

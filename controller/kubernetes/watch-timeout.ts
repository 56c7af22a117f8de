/**
 * Default shortest watch request, seconds (client-go's reflector uses 5
 * minutes too). A module of its own so that the CLI's flags load no
 * Kubernetes client: every process of `portcullis` (proxy workers too)
 * starts from cli/main.js, and the client costs each about a second and
 * 70 MB.
 */
export const DEFAULT_WATCH_TIMEOUT_SECONDS = 300;

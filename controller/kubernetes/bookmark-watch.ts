/**
 * client-node's Watch, asking for bookmarks and for a timeout the client
 * picks. Without bookmarks a watch on a quiet kind resumes from the
 * resourceVersion of its last object event, which the server may have
 * compacted away: a needless 410 Gone and a full relist every time a stream
 * ends. The API server sends its last bookmark 2 s before the deadline of a
 * watch that has one, and a watch only has a deadline when the client sets
 * `timeoutSeconds` (the server's own `--min-request-timeout` cut-off sends
 * none), so the timeout is set here, spread between one and two times
 * `timeoutSeconds` as client-go's reflector does, so that many controllers
 * do not renew together.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_WATCH_TIMEOUT_SECONDS } from './watch-timeout.js';

export class BookmarkWatch extends Watch {
  readonly #timeoutSeconds: number;

  constructor(config: KubeConfig, timeoutSeconds = DEFAULT_WATCH_TIMEOUT_SECONDS) {
    super(config);
    this.#timeoutSeconds = timeoutSeconds;
  }

  override watch(...[path, query, callback, done]: Parameters<Watch['watch']>): ReturnType<Watch['watch']> {
    const timeoutSeconds = Math.round(this.#timeoutSeconds * (1 + Math.random()));
    return super.watch(path, { ...query, allowWatchBookmarks: true, timeoutSeconds }, callback, done);
  }
}

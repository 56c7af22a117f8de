/**
 * Where the primary hands its workers the default certificate. A module of
 * its own so that the primary does not load the worker (and with it every
 * plugin) for one name.
 */
export const FALLBACK_PEM_ENV = 'PORTCULLIS_FALLBACK_PEM';

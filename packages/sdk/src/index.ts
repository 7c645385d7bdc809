/** @gatehouse/sdk: a fetch-based client for the Gatehouse API, with no runtime dependencies. */
export const SDK_VERSION = '0.1.0';

/**
 * The product's version, one for the operator, its images and the plugin
 * (package.json's; test/unit/version.test.ts keeps them in step). The operator
 * sends it with its discovery document as the `Execsession-Version` header, so
 * `kubectl execsession version` can name the operator a cluster runs without
 * any right beyond discovery.
 */
export const PRODUCT_VERSION = '0.1.0';

/** The response header carrying PRODUCT_VERSION on the aggregated API's discovery. */
export const VERSION_HEADER = 'Execsession-Version';

package io.kmsregions.key;

/** Where a key's material comes from (API reference: OriginType). */
public enum Origin {
  AWS_KMS,
  EXTERNAL,
  AWS_CLOUDHSM,
  EXTERNAL_KEY_STORE
}

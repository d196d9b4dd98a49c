package io.kmsregions.key;

import io.kmsregions.CborSerializable;

/**
 * Where a key of a custom key store lives (KeyMetadata CustomKeyStoreId, CloudHsmClusterId,
 * XksKeyConfiguration; kms-api.md §3).
 *
 * @param cloudHsmClusterId set for Origin AWS_CLOUDHSM, else null
 * @param xksKeyId the external key's id in the proxy, set for Origin EXTERNAL_KEY_STORE, else null
 */
public record CustomKeyStoreBinding(String customKeyStoreId, String cloudHsmClusterId, String xksKeyId)
    implements CborSerializable {}

package io.kmsregions.keystore.xks;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The {@code requestMetadata} object KMS sends with every XKS proxy call (XKS Proxy API
 * specification, "API operations" and Appendix B): who called KMS and why. The proxy logs it and
 * checks the required fields' presence; it never validates their structure.
 *
 * @param awsPrincipalArn the principal that called KMS; required except for GetHealthStatus
 * @param kmsKeyArn the KMS key's ARN; required for Encrypt and Decrypt, optional for
 *     GetKeyMetadata (absent during CreateKey), absent for GetHealthStatus
 * @param kmsOperation the KMS operation that caused the call (e.g. {@code Encrypt},
 *     {@code CreateKey}, {@code KmsHealthCheck}); always required
 * @param kmsRequestId the KMS request id, opaque; always required
 * @param kmsViaService the AWS service that called KMS on the caller's behalf, or null
 */
public record XksRequestMetadata(String awsPrincipalArn, String kmsKeyArn, String kmsOperation, String kmsRequestId,
    String kmsViaService) {

  /** The metadata of a GetHealthStatus call: only {@code kmsOperation} and {@code kmsRequestId}. */
  public static XksRequestMetadata health(String kmsOperation, String kmsRequestId) {
    return new XksRequestMetadata(null, null, kmsOperation, kmsRequestId, null);
  }

  /** The JSON object, absent fields omitted. */
  ObjectNode toJson(ObjectNode into) {
    if (awsPrincipalArn != null) into.put("awsPrincipalArn", awsPrincipalArn);
    if (kmsKeyArn != null) into.put("kmsKeyArn", kmsKeyArn);
    if (kmsOperation != null) into.put("kmsOperation", kmsOperation);
    if (kmsRequestId != null) into.put("kmsRequestId", kmsRequestId);
    if (kmsViaService != null) into.put("kmsViaService", kmsViaService);
    return into;
  }
}

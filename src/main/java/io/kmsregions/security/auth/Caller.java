package io.kmsregions.security.auth;

import io.kmsregions.CborSerializable;

/**
 * Who made an API call, as this cluster established it. A request forwarded to another Region's
 * node carries this record (not the signature), so the Region that handles it sees the caller the
 * receiving node verified, never a new identity.
 *
 * <p>The fields follow CloudTrail's {@code userIdentity} element (AWS CloudTrail User Guide,
 * "CloudTrail userIdentity element"): {@code type} is {@code IAMUser}, {@code AssumedRole},
 * {@code Root}, or {@code Unknown} for an unsigned request in {@code open} mode.
 *
 * @param type the CloudTrail identity type
 * @param principalArn the ARN of the principal (user or role) the credentials stand for
 * @param accountId the 12-digit AWS account of the principal
 * @param accessKeyId the access key id the request was signed with, or null when unsigned
 * @param verified true when the SigV4 signature was verified; false in {@code open} mode
 */
public record Caller(String type, String principalArn, String accountId, String accessKeyId, boolean verified)
    implements CborSerializable {

  /** The CloudTrail identity type of a principal ARN: root, role session or user. */
  public static String typeOf(String principalArn) {
    if (principalArn.endsWith(":root")) return "Root";
    if (principalArn.contains(":assumed-role/") || principalArn.contains(":role/")) return "AssumedRole";
    return "IAMUser";
  }
}

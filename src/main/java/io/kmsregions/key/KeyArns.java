package io.kmsregions.key;

import java.util.regex.Pattern;

/**
 * Key identifiers (kms-api.md §5 "Identity"): single-Region keys are dashed UUIDs, multi-Region keys
 * {@code mrk-} and 32 lowercase hex digits; ARNs are {@code arn:<partition>:kms:<region>:<account>:key/<id>}.
 */
public final class KeyArns {
  public static final Pattern SINGLE_REGION_ID =
      Pattern.compile("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  public static final Pattern MULTI_REGION_ID = Pattern.compile("^mrk-[0-9a-f]{32}$");

  private KeyArns() {}

  public static String keyArn(String partition, String region, String accountId, String keyId) {
    return "arn:" + partition + ":kms:" + region + ":" + accountId + ":key/" + keyId;
  }

  public static boolean isKeyId(String s) {
    return SINGLE_REGION_ID.matcher(s).matches() || MULTI_REGION_ID.matcher(s).matches();
  }

  public static boolean isMultiRegionId(String s) {
    return s.startsWith("mrk-");
  }
}

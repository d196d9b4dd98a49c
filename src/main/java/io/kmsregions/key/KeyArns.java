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

  /**
   * Whether {@code s} is a key id: {@link #SINGLE_REGION_ID} or {@link #MULTI_REGION_ID}. Checked by
   * hand because every request resolves its KeyId through it (a regex match showed in the profile).
   */
  public static boolean isKeyId(String s) {
    if (s.length() != 36) return false; // both forms are 36 characters long
    if (s.startsWith("mrk-")) {
      for (int i = 4; i < 36; i++) {
        if (!lowerHex(s.charAt(i))) return false;
      }
      return true;
    }
    for (int i = 0; i < 36; i++) {
      char c = s.charAt(i);
      boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? c != '-' : !lowerHex(c)) return false;
    }
    return true;
  }

  private static boolean lowerHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }

  public static boolean isMultiRegionId(String s) {
    return s.startsWith("mrk-");
  }
}

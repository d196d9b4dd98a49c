package io.kmsregions.key;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** {@link KeyArns#isKeyId} is a hand-written matcher: it must agree with the documented patterns. */
class KeyArnsTest {

  private static boolean byPattern(String s) {
    return KeyArns.SINGLE_REGION_ID.matcher(s).matches() || KeyArns.MULTI_REGION_ID.matcher(s).matches();
  }

  @Test
  void acceptsBothForms() {
    assertTrue(KeyArns.isKeyId("1234abcd-12ab-34cd-56ef-1234567890ab"));
    assertTrue(KeyArns.isKeyId("mrk-1234abcd12ab34cd56ef1234567890ab"));
    assertTrue(KeyArns.isKeyId(UUID.randomUUID().toString()));
  }

  @Test
  void refusesNearMisses() {
    for (String s : new String[] {"", "mrk-", "1234ABCD-12ab-34cd-56ef-1234567890ab", "mrk-1234ABCD12ab34cd56ef1234567890ab",
        "1234abcd-12ab-34cd-56ef-1234567890a", "1234abcd-12ab-34cd-56ef-1234567890abc", "1234abcd012ab-34cd-56ef-1234567890a",
        "mrk-1234abcd12ab34cd56ef1234567890a", "mrk-1234abcd12ab34cd56ef1234567890abc", "mrk_1234abcd12ab34cd56ef1234567890ab",
        "mrk-1234abcd-2ab34cd56ef1234567890ab", "alias/1234abcd-12ab-34cd-56ef-1234567890", "1234abcd-12ab-34cd-56eg-1234567890ab",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}) {
      assertFalse(KeyArns.isKeyId(s), s);
      assertEquals(byPattern(s), KeyArns.isKeyId(s), s);
    }
  }

  @Test
  void agreesWithThePatternsOnMutatedIds() {
    Random random = new Random(42);
    String alphabet = "0123456789abcdefABCDEF-mrkxg/ ";
    for (int i = 0; i < 50_000; i++) {
      char[] id = (random.nextBoolean() ? UUID.randomUUID().toString()
          : "mrk-" + UUID.randomUUID().toString().replace("-", "")).toCharArray();
      int mutations = random.nextInt(3);
      for (int m = 0; m < mutations; m++) id[random.nextInt(id.length)] = alphabet.charAt(random.nextInt(alphabet.length()));
      String s = new String(id);
      if (random.nextInt(10) == 0) s = s.substring(0, random.nextInt(s.length()));
      assertEquals(byPattern(s), KeyArns.isKeyId(s), s);
    }
  }
}

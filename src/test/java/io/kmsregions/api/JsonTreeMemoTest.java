package io.kmsregions.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A request body is parsed once for authorisation and the operation: by identity, never by content. */
class JsonTreeMemoTest {

  @Test
  void theSameBodyIsParsedOnceAnotherArrayAgain() throws IOException {
    byte[] body = "{\"KeyId\":\"alias/a\"}".getBytes(StandardCharsets.UTF_8);
    byte[] equalContent = body.clone();
    var first = Json.tree(body);
    assertSame(first, Json.tree(body));
    var other = Json.tree(equalContent);
    assertNotSame(first, other);
    assertEquals(first, other);
  }

  @Test
  void aBodyThatIsNotJsonFailsEveryTimeAndReadStillAnswersSerializationException() {
    byte[] bad = "{\"KeyId\":".getBytes(StandardCharsets.UTF_8);
    assertThrows(IOException.class, () -> Json.tree(bad));
    assertThrows(IOException.class, () -> Json.tree(bad));
    KmsException e = assertThrows(KmsException.class, () -> Json.read(bad, Requests.ReplicateKey.class));
    assertEquals("SerializationException", e.error().type());
  }
}

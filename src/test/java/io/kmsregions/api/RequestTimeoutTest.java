package io.kmsregions.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.lab.FaultInjector;
import io.kmsregions.testkit.TestCluster;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DependencyTimeoutException;
import software.amazon.awssdk.services.kms.model.KeyState;

/**
 * The KMS endpoint's request timeout ({@code kms.http.request-timeout}), which stands in for Pekko
 * HTTP's on that endpoint: a call not answered in time gets DependencyTimeoutException (503) from
 * the node itself, although the wait inside (here a call forwarded to another Region over a slow
 * link, kms.forward-timeout 10 s) would go on; the node serves on, and the same call answers once
 * the link is healed. Two Regions, the link shaper of the failover laboratory, the AWS SDK.
 */
class RequestTimeoutTest {
  private static final String US = "us-east-1";
  private static final String EU = "eu-west-1";

  @TempDir static Path dir;
  static TestCluster cluster;
  static FaultInjector faults;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dir, List.of(US, EU), ConfigFactory.parseString(String.join("\n",
        "kms.faults.enabled = on",
        "kms.cluster.tls.enabled = off",
        "kms.forward-timeout = 10s",
        "kms.http.request-timeout = 700ms")));
    faults = new FaultInjector(cluster.specs(), null);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  @Test
  void aCallNotAnsweredInTimeGetsDependencyTimeoutAndTheNodeServesOn() throws Exception {
    String keyId = cluster.client(EU).createKey(b -> b.description("in eu-west-1")).keyMetadata().keyId();
    // Signed for eu-west-1, sent to us-east-1's endpoint: forwarded over the us-east-1 - eu-west-1 link.
    KmsClient viaUs = cluster.clientVia(EU, US);
    assertEquals(KeyState.ENABLED, viaUs.describeKey(b -> b.keyId(keyId)).keyMetadata().keyState());

    faults.latency(US, EU, 600, 0, 0, false); // a forwarded call now takes 1.2 s or more
    try {
      long start = System.nanoTime();
      DependencyTimeoutException e = assertThrows(DependencyTimeoutException.class,
          () -> viaUs.describeKey(b -> b.keyId(keyId)));
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertEquals(503, e.statusCode());
      assertTrue(e.awsErrorDetails().errorMessage().contains("not answered within 700 ms"),
          e.awsErrorDetails().errorMessage());
      assertTrue(ms >= 700 && ms < 5_000, "answered by the request timeout, not the forward timeout: " + ms + " ms");
      // The node serves its own calls meanwhile.
      assertEquals(KeyState.ENABLED, cluster.client(US).createKey(b -> b.description("in us-east-1"))
          .keyMetadata().keyState());
    } finally {
      faults.heal(US, EU);
    }
    TestCluster.await(java.time.Duration.ofSeconds(20), "the forwarded call answers again",
        () -> viaUs.describeKey(b -> b.keyId(keyId)).keyMetadata().keyState() == KeyState.ENABLED);
  }
}

package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kmsregions.key.KmsError;
import io.kmsregions.keystore.CustomKeyStore;
import io.kmsregions.keystore.CustomKeyStore.CloudHsmSettings;
import io.kmsregions.keystore.CustomKeyStore.ConnectionErrorCode;
import io.kmsregions.keystore.CustomKeyStore.ConnectionState;
import io.kmsregions.keystore.CustomKeyStore.Type;
import io.kmsregions.keystore.CustomKeyStore.XksProxySettings;
import io.kmsregions.keystore.CustomKeyStores;
import io.kmsregions.keystore.KeyStoreServices;
import io.kmsregions.keystore.cloudhsm.SimulatedCloudHsm;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * CreateCustomKeyStore, DescribeCustomKeyStores, UpdateCustomKeyStore, ConnectCustomKeyStore,
 * DisconnectCustomKeyStore and DeleteCustomKeyStore (kms-api.md §2 "Custom key stores"; API
 * reference of each). Fields are validated here; what needs the Region's stores at once (unique
 * names, clusters and URIs, connection states, keys in a store) is decided by
 * {@link CustomKeyStores}.
 *
 * <p>Simulated, and so different from AWS on purpose: AWS_CLOUDHSM stores use the CloudHSM
 * clusters of {@code kms.cloudhsm.clusters}; EXTERNAL_KEY_STORE stores take PUBLIC_ENDPOINT
 * connectivity only, and their XksProxyUriEndpoint may be {@code http://} with a port (AWS
 * requires {@code https://} on 443), so that the shipped proxy ({@code kms-regions xks-proxy}) runs
 * without certificates.
 */
final class CustomKeyStoreOperations {
  private static final Pattern URI_ENDPOINT = Pattern.compile("^https?://[a-zA-Z0-9.-]+(:\\d{1,5})?$");
  private static final Pattern URI_PATH = Pattern.compile("^(/[a-zA-Z0-9/_-]+/kms/xks/v\\d{1,2})$|^(/kms/xks/v\\d{1,2})$");
  private static final Pattern ACCESS_KEY_ID = Pattern.compile("^[A-Z2-7]+$");
  private static final Pattern SECRET = Pattern.compile("^[a-zA-Z0-9/+=]+$");
  private static final List<String> CONNECTIVITY = List.of("PUBLIC_ENDPOINT", "VPC_ENDPOINT_SERVICE");

  private final ApiContext api;
  private final KeyStoreServices services;

  CustomKeyStoreOperations(ApiContext api) {
    this.api = api;
    this.services = api.keyStores();
  }

  /** The operations of this group, by name. */
  Map<String, ApiContext.Operation> operations() {
    return Map.of(
        "CreateCustomKeyStore", r -> create(r.body()),
        "DescribeCustomKeyStores", r -> describe(r.body()),
        "UpdateCustomKeyStore", r -> update(r.body()),
        "ConnectCustomKeyStore", r -> simple(r.body(), CustomKeyStores.ConnectStore::new),
        "DisconnectCustomKeyStore", r -> simple(r.body(), CustomKeyStores.DisconnectStore::new),
        "DeleteCustomKeyStore", r -> simple(r.body(), CustomKeyStores.DeleteStore::new));
  }

  // ------------------------------------------------------------------ CreateCustomKeyStore

  private CompletionStage<JsonNode> create(byte[] body) {
    CustomKeyStoreRequests.CreateCustomKeyStore r = Json.read(body, CustomKeyStoreRequests.CreateCustomKeyStore.class);
    Validate.required(r.customKeyStoreName(), "customKeyStoreName");
    Validate.length(r.customKeyStoreName(), "customKeyStoreName", 1, 256);
    Type type = Validate.enumValue(r.customKeyStoreType(), "customKeyStoreType", Type.class);
    if (type == null) type = Type.AWS_CLOUDHSM;
    validateCommon(r.cloudHsmClusterId(), r.keyStorePassword(), r.xksProxyUriEndpoint(), r.xksProxyUriPath(),
        r.xksProxyAuthenticationCredential(), r.xksProxyConnectivity());
    Validate.length(r.trustAnchorCertificate(), "trustAnchorCertificate", 1, 5000);
    String id = "cks-" + ApiContext.randomHex(9).substring(0, 17);
    long now = api.settings().clock().now();
    if (type == Type.AWS_CLOUDHSM) {
      rejectXks(r.xksProxyUriEndpoint(), r.xksProxyUriPath(), r.xksProxyAuthenticationCredential(),
          r.xksProxyConnectivity(), r.xksProxyVpcEndpointServiceName(), type);
      requireFor(r.cloudHsmClusterId(), "CloudHsmClusterId", type);
      requireFor(r.trustAnchorCertificate(), "TrustAnchorCertificate", type);
      requireFor(r.keyStorePassword(), "KeyStorePassword", type);
      SimulatedCloudHsm.Cluster cluster = usableCluster(r.cloudHsmClusterId());
      byte[] anchor = SimulatedCloudHsm.certificateDer(r.trustAnchorCertificate()).orElseThrow(() ->
          new KmsException(new KmsError("IncorrectTrustAnchorException",
              "The trust anchor certificate is not a PEM-encoded X.509 certificate.")));
      if (!Arrays.equals(anchor, cluster.trustAnchor())) {
        throw new KmsException(new KmsError("IncorrectTrustAnchorException", "The trust anchor certificate does not"
            + " match the trust anchor certificate of CloudHSM cluster " + cluster.clusterId() + "."));
      }
      CustomKeyStore store = new CustomKeyStore(id, r.customKeyStoreName(), type, now,
          new CloudHsmSettings(r.cloudHsmClusterId(), r.trustAnchorCertificate(), r.keyStorePassword()), null,
          ConnectionState.DISCONNECTED, null, Map.of());
      return createStore(store);
    }
    if (r.cloudHsmClusterId() != null || r.trustAnchorCertificate() != null || r.keyStorePassword() != null) {
      throw new KmsException(KmsError.validation(
          "CloudHsmClusterId, TrustAnchorCertificate and KeyStorePassword are not valid for an EXTERNAL_KEY_STORE."));
    }
    XksProxySettings proxy = proxySettings(r.xksProxyConnectivity(), r.xksProxyUriEndpoint(), r.xksProxyUriPath(),
        r.xksProxyAuthenticationCredential(), r.xksProxyVpcEndpointServiceName(), null);
    CustomKeyStore store = new CustomKeyStore(id, r.customKeyStoreName(), type, now, null, proxy,
        ConnectionState.DISCONNECTED, null, Map.of());
    // AWS checks that the proxy answers before it creates the store (XksProxyUriUnreachableException, ...).
    return verifyProxy(proxy).thenCompose(ok -> createStore(store));
  }

  private CompletionStage<JsonNode> createStore(CustomKeyStore store) {
    return ask(replyTo -> new CustomKeyStores.CreateStore(store, replyTo)).thenApply(done -> {
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("CustomKeyStoreId", done.store().customKeyStoreId());
      return out;
    });
  }

  /** The cluster for a new or updated CloudHSM store: it exists and is ACTIVE, with subnets in two zones. */
  private SimulatedCloudHsm.Cluster usableCluster(String clusterId) {
    SimulatedCloudHsm.Cluster cluster = services.cloudHsm().cluster(clusterId).orElseThrow(() ->
        new KmsException(new KmsError("CloudHsmClusterNotFoundException",
            "No CloudHSM cluster with id " + clusterId + " exists in " + api.settings().region() + ".")));
    if (!cluster.isActive()) {
      throw new KmsException(new KmsError("CloudHsmClusterNotActiveException",
          "CloudHSM cluster " + clusterId + " is " + cluster.state() + ", not ACTIVE."));
    }
    if (cluster.subnetZones().stream().distinct().count() < 2) {
      throw new KmsException(new KmsError("CloudHsmClusterInvalidConfigurationException", "CloudHSM cluster "
          + clusterId + " must have private subnets in at least two Availability Zones of " + api.settings().region() + "."));
    }
    return cluster;
  }

  private CompletionStage<Boolean> verifyProxy(XksProxySettings proxy) {
    return ApiContext.direct(services.xks().health(proxy)).thenApply(error -> {
      if (error.isEmpty()) return true;
      throw new KmsException(proxyError(error.get(), proxy));
    });
  }

  /** The CreateCustomKeyStore/UpdateCustomKeyStore error of a proxy that cannot be used. */
  static KmsError proxyError(ConnectionErrorCode code, XksProxySettings proxy) {
    String uri = proxy.uriEndpoint() + proxy.uriPath();
    return switch (code) {
      case INVALID_CREDENTIALS, XKS_PROXY_ACCESS_DENIED -> new KmsError("XksProxyIncorrectAuthenticationCredentialException",
          "The external key store proxy at " + uri + " rejected the proxy authentication credential.");
      case XKS_PROXY_INVALID_RESPONSE -> new KmsError("XksProxyInvalidResponseException",
          "The external key store proxy at " + uri + " did not answer in the form of the XKS Proxy API.");
      case XKS_PROXY_INVALID_CONFIGURATION -> new KmsError("XksProxyInvalidConfigurationException",
          "The external key store proxy at " + proxy.uriEndpoint() + " does not serve the path " + proxy.uriPath() + ".");
      default -> new KmsError("XksProxyUriUnreachableException",
          "KMS could not reach the external key store proxy at " + uri + " (" + code + ").");
    };
  }

  // ------------------------------------------------------------------ UpdateCustomKeyStore

  private CompletionStage<JsonNode> update(byte[] body) {
    CustomKeyStoreRequests.UpdateCustomKeyStore r = Json.read(body, CustomKeyStoreRequests.UpdateCustomKeyStore.class);
    String id = storeId(r.customKeyStoreId());
    Validate.length(r.newCustomKeyStoreName(), "newCustomKeyStoreName", 1, 256);
    validateCommon(r.cloudHsmClusterId(), r.keyStorePassword(), r.xksProxyUriEndpoint(), r.xksProxyUriPath(),
        r.xksProxyAuthenticationCredential(), r.xksProxyConnectivity());
    CustomKeyStore store = services.cache().get(id)
        .orElseThrow(() -> new KmsException(KmsError.customKeyStoreNotFound(id)));
    CloudHsmSettings hsm = null;
    XksProxySettings proxy = null;
    CompletionStage<Boolean> checked = CompletableFuture.completedFuture(true);
    if (store.customKeyStoreType() == Type.AWS_CLOUDHSM) {
      rejectXks(r.xksProxyUriEndpoint(), r.xksProxyUriPath(), r.xksProxyAuthenticationCredential(),
          r.xksProxyConnectivity(), r.xksProxyVpcEndpointServiceName(), store.customKeyStoreType());
      if (r.cloudHsmClusterId() != null || r.keyStorePassword() != null) {
        CloudHsmSettings old = store.cloudHsm();
        String clusterId = r.cloudHsmClusterId() != null ? r.cloudHsmClusterId() : old.cloudHsmClusterId();
        if (!clusterId.equals(old.cloudHsmClusterId())) {
          SimulatedCloudHsm.Cluster cluster = usableCluster(clusterId);
          boolean related = cluster.related().contains(old.cloudHsmClusterId())
              || services.cloudHsm().cluster(old.cloudHsmClusterId()).map(o -> o.related().contains(clusterId)).orElse(false)
              || SimulatedCloudHsm.certificateDer(old.trustAnchorCertificate())
                  .map(a -> Arrays.equals(a, cluster.trustAnchor())).orElse(false);
          if (!related) {
            throw new KmsException(new KmsError("CloudHsmClusterNotRelatedException", "CloudHSM cluster " + clusterId
                + " does not share backup history with " + old.cloudHsmClusterId() + ", the cluster of " + id + "."));
          }
        }
        hsm = new CloudHsmSettings(clusterId, old.trustAnchorCertificate(),
            r.keyStorePassword() != null ? r.keyStorePassword() : old.keyStorePassword());
      }
    } else {
      if (r.cloudHsmClusterId() != null || r.keyStorePassword() != null) {
        throw new KmsException(KmsError.validation(
            "CloudHsmClusterId and KeyStorePassword are not valid for an EXTERNAL_KEY_STORE."));
      }
      if (r.xksProxyUriEndpoint() != null || r.xksProxyUriPath() != null || r.xksProxyAuthenticationCredential() != null
          || r.xksProxyConnectivity() != null || r.xksProxyVpcEndpointServiceName() != null) {
        proxy = proxySettings(r.xksProxyConnectivity(), r.xksProxyUriEndpoint(), r.xksProxyUriPath(),
            r.xksProxyAuthenticationCredential(), r.xksProxyVpcEndpointServiceName(), store.xks());
        if (store.connectionState() == ConnectionState.DISCONNECTED) checked = verifyProxy(proxy);
      }
    }
    CloudHsmSettings newHsm = hsm;
    XksProxySettings newProxy = proxy;
    return checked.thenCompose(ok -> ask(replyTo ->
        new CustomKeyStores.UpdateStore(id, r.newCustomKeyStoreName(), newHsm, newProxy, replyTo)))
        .thenApply(done -> Json.MAPPER.createObjectNode());
  }

  // ------------------------------------------------------------------ Connect, Disconnect, Delete

  private CompletionStage<JsonNode> simple(byte[] body,
      java.util.function.BiFunction<String, ActorRef<CustomKeyStores.Reply>, CustomKeyStores.Command> command) {
    CustomKeyStoreRequests.ByCustomKeyStoreId r = Json.read(body, CustomKeyStoreRequests.ByCustomKeyStoreId.class);
    String id = storeId(r.customKeyStoreId());
    return ask(replyTo -> command.apply(id, replyTo)).thenApply(done -> Json.MAPPER.createObjectNode());
  }

  // ------------------------------------------------------------------ DescribeCustomKeyStores

  private CompletionStage<JsonNode> describe(byte[] body) {
    CustomKeyStoreRequests.DescribeCustomKeyStores r =
        Json.read(body, CustomKeyStoreRequests.DescribeCustomKeyStores.class);
    Validate.length(r.customKeyStoreId(), "customKeyStoreId", 1, 64);
    Validate.length(r.customKeyStoreName(), "customKeyStoreName", 1, 256);
    Validate.range(r.limit(), "limit", 1, 1000);
    if (r.customKeyStoreId() != null && r.customKeyStoreName() != null) {
      throw new KmsException(KmsError.validation("Specify either CustomKeyStoreId or CustomKeyStoreName, not both."));
    }
    int from = Pages.start(r.marker());
    int limit = r.limit() == null ? 1000 : r.limit();
    return ApiContext.ask(services.stores(), CustomKeyStores.GetStores::new, api.settings().askTimeout(),
        api.system().scheduler()).thenApply(reply -> {
          List<CustomKeyStore> stores = ((CustomKeyStores.Stores) reply).stores().stream()
              .filter(s -> r.customKeyStoreId() == null || s.customKeyStoreId().equals(r.customKeyStoreId()))
              .filter(s -> r.customKeyStoreName() == null || s.customKeyStoreName().equals(r.customKeyStoreName()))
              .toList();
          if (stores.isEmpty() && (r.customKeyStoreId() != null || r.customKeyStoreName() != null)) {
            throw new KmsException(KmsError.customKeyStoreNotFound(
                r.customKeyStoreId() != null ? r.customKeyStoreId() : r.customKeyStoreName()));
          }
          Pages.check(from, stores.size());
          int to = Math.min(stores.size(), from + limit);
          ObjectNode out = Json.MAPPER.createObjectNode();
          ArrayNode list = out.putArray("CustomKeyStores");
          for (CustomKeyStore s : stores.subList(from, to)) list.add(entry(s));
          Pages.finish(out, to, stores.size());
          return out;
        });
  }

  /** CustomKeyStoresListEntry; the password and the proxy's secret are never shown. */
  private static ObjectNode entry(CustomKeyStore s) {
    ObjectNode e = Json.MAPPER.createObjectNode();
    e.put("CustomKeyStoreId", s.customKeyStoreId());
    e.put("CustomKeyStoreName", s.customKeyStoreName());
    e.put("CustomKeyStoreType", s.customKeyStoreType().name());
    e.put("ConnectionState", s.connectionState().name());
    if (s.connectionErrorCode() != null) e.put("ConnectionErrorCode", s.connectionErrorCode().name());
    e.put("CreationDate", KeyMetadataJson.epochSeconds(s.creationDate()));
    if (s.cloudHsm() != null) {
      e.put("CloudHsmClusterId", s.cloudHsm().cloudHsmClusterId());
      e.put("TrustAnchorCertificate", s.cloudHsm().trustAnchorCertificate());
    }
    if (s.xks() != null) {
      ObjectNode x = e.putObject("XksProxyConfiguration");
      x.put("Connectivity", s.xks().connectivity());
      x.put("AccessKeyId", s.xks().accessKeyId());
      x.put("UriEndpoint", s.xks().uriEndpoint());
      x.put("UriPath", s.xks().uriPath());
    }
    return e;
  }

  // ------------------------------------------------------------------ shared checks

  private static String storeId(String id) {
    Validate.required(id, "customKeyStoreId");
    Validate.length(id, "customKeyStoreId", 1, 64);
    return id;
  }

  private static void validateCommon(String clusterId, String password, String endpoint, String path,
      CustomKeyStoreRequests.Credential credential, String connectivity) {
    Validate.length(clusterId, "cloudHsmClusterId", 19, 24);
    Validate.length(password, "keyStorePassword", 7, 32);
    Validate.length(endpoint, "xksProxyUriEndpoint", 10, 128);
    Validate.length(path, "xksProxyUriPath", 10, 128);
    Validate.oneOf(connectivity, "xksProxyConnectivity", CONNECTIVITY);
    if (endpoint != null && !URI_ENDPOINT.matcher(endpoint).matches()) {
      throw new KmsException(KmsError.constraint(endpoint, "xksProxyUriEndpoint",
          "Member must satisfy regular expression pattern: ^https?://[a-zA-Z0-9.-]+(:port)?$"));
    }
    if (path != null && !URI_PATH.matcher(path).matches()) {
      throw new KmsException(KmsError.constraint(path, "xksProxyUriPath",
          "Member must satisfy regular expression pattern: " + URI_PATH.pattern()));
    }
    if (credential != null) {
      Validate.required(credential.accessKeyId(), "xksProxyAuthenticationCredential.accessKeyId");
      Validate.required(credential.rawSecretAccessKey(), "xksProxyAuthenticationCredential.rawSecretAccessKey");
      Validate.length(credential.accessKeyId(), "xksProxyAuthenticationCredential.accessKeyId", 20, 30);
      Validate.length(credential.rawSecretAccessKey(), "xksProxyAuthenticationCredential.rawSecretAccessKey", 43, 64);
      if (!ACCESS_KEY_ID.matcher(credential.accessKeyId()).matches()) {
        throw new KmsException(KmsError.constraint(credential.accessKeyId(),
            "xksProxyAuthenticationCredential.accessKeyId", "Member must satisfy regular expression pattern: ^[A-Z2-7]+$"));
      }
      if (!SECRET.matcher(credential.rawSecretAccessKey()).matches()) {
        throw new KmsException(KmsError.constraint(null, "xksProxyAuthenticationCredential.rawSecretAccessKey",
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9\\/+=]+$"));
      }
    }
  }

  private static void rejectXks(String endpoint, String path, Object credential, String connectivity,
      String vpcService, Type type) {
    if (endpoint != null || path != null || credential != null || connectivity != null || vpcService != null) {
      throw new KmsException(KmsError.validation("XksProxy parameters are not valid for an " + type + " custom key store."));
    }
  }

  private static void requireFor(String value, String field, Type type) {
    if (value == null) {
      throw new KmsException(KmsError.validation(field + " is required for a " + type + " custom key store."));
    }
  }

  /** New proxy settings: the request's fields over {@code old}'s (null when creating). */
  private static XksProxySettings proxySettings(String connectivity, String endpoint, String path,
      CustomKeyStoreRequests.Credential credential, String vpcService, XksProxySettings old) {
    String c = connectivity != null ? connectivity : old != null ? old.connectivity() : "PUBLIC_ENDPOINT";
    if (c.equals("VPC_ENDPOINT_SERVICE") || vpcService != null) {
      throw new KmsException(KmsError.unsupported(
          "kms-regions simulates external key stores with PUBLIC_ENDPOINT connectivity only."));
    }
    String e = endpoint != null ? endpoint : old != null ? old.uriEndpoint() : null;
    String p = path != null ? path : old != null ? old.uriPath() : null;
    if (old == null) {
      if (e == null) throw new KmsException(KmsError.validation("XksProxyUriEndpoint is required for an EXTERNAL_KEY_STORE."));
      if (p == null) throw new KmsException(KmsError.validation("XksProxyUriPath is required for an EXTERNAL_KEY_STORE."));
      if (credential == null) {
        throw new KmsException(KmsError.validation(
            "XksProxyAuthenticationCredential is required for an EXTERNAL_KEY_STORE."));
      }
    }
    String id = credential != null ? credential.accessKeyId() : old.accessKeyId();
    String secret = credential != null ? credential.rawSecretAccessKey() : old.secretAccessKey();
    return new XksProxySettings(c, e, p, id, secret);
  }

  private CompletionStage<CustomKeyStores.Done> ask(
      Function<ActorRef<CustomKeyStores.Reply>, CustomKeyStores.Command> command) {
    return ApiContext.ask(services.stores(), command, api.settings().askTimeout(), api.system().scheduler())
        .thenApply(reply -> {
          if (reply instanceof CustomKeyStores.Failed f) throw new KmsException(f.error());
          return (CustomKeyStores.Done) reply;
        });
  }
}

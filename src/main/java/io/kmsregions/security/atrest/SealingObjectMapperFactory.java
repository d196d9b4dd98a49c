package io.kmsregions.security.atrest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import javax.crypto.SecretKey;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperFactory;

/**
 * Gives the ObjectMapper of the {@value #BINDING} binding (the key's events and snapshots) the
 * {@link KeyMaterialSealing} module with this Region's root key. Installed per ActorSystem through
 * Pekko's {@code JacksonObjectMapperProviderSetup}, because several Regions (each with its own root
 * key) may run in one JVM; every other binding is left as Pekko configures it.
 */
public final class SealingObjectMapperFactory extends JacksonObjectMapperFactory {
  /** The serializer binding of persisted key state (conf/serialization.conf). */
  public static final String BINDING = "jackson-cbor-atrest";
  private final SecretKey rootKey;

  public SealingObjectMapperFactory(SecretKey rootKey) {
    this.rootKey = rootKey;
  }

  @Override
  public ObjectMapper newObjectMapper(String bindingName, JsonFactory jsonFactory) {
    ObjectMapper mapper = super.newObjectMapper(bindingName, jsonFactory);
    if (BINDING.equals(bindingName)) {
      mapper.registerModule(new KeyMaterialSealing(rootKey));
      mapper.registerModule(new ImportSealing(rootKey));
    }
    return mapper;
  }
}

package io.kmsregions.keystore;

import io.kmsregions.keystore.cloudhsm.SimulatedCloudHsm;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What the API of one Region uses for custom key stores: the stores' actor, its cache, the
 * simulated CloudHSM clusters, and the client of external key store proxies.
 */
public record KeyStoreServices(
    ActorRef<CustomKeyStores.Command> stores, CustomKeyStoreCache cache, SimulatedCloudHsm cloudHsm, XksProxies xks) {}

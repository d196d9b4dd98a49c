package io.kmsregions;

/**
 * Marker for every message, event and state that crosses a node boundary or reaches the journal.
 * Bound to Pekko's {@code jackson-cbor} serializer in {@code conf/serialization.conf}.
 */
public interface CborSerializable {}

package io.kmsregions.key;

import io.kmsregions.CborSerializable;

/** A resource tag (API reference: Tag). Keys 1..128 characters, values 0..256. */
public record Tag(String tagKey, String tagValue) implements CborSerializable {}

package io.kmsregions.api;

import io.kmsregions.CborSerializable;

/** The HTTP status and JSON body of a KMS API call's answer. */
public record ApiResponse(int status, byte[] body) implements CborSerializable {}

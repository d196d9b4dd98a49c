package io.kmsregions.api;

import io.kmsregions.key.Tag;
import java.util.List;

/** Request shapes of the key management operations (kms-api.md §2). */
final class ManagementRequests {
  private ManagementRequests() {}

  record KeyOnly(String keyId) {}

  record UpdateKeyDescription(String keyId, String description) {}

  record TagResource(String keyId, List<Tag> tags) {}

  record UntagResource(String keyId, List<String> tagKeys) {}

  record ListResourceTags(String keyId, Integer limit, String marker) {}

  record GetKeyPolicy(String keyId, String policyName) {}

  record PutKeyPolicy(String keyId, String policyName, String policy, Boolean bypassPolicyLockoutSafetyCheck) {}

  record ListKeyPolicies(String keyId, Integer limit, String marker) {}

  record ScheduleKeyDeletion(String keyId, Integer pendingWindowInDays) {}

  record EnableKeyRotation(String keyId, Integer rotationPeriodInDays) {}

  record ListKeyRotations(String keyId, String includeKeyMaterial, Integer limit, String marker) {}
}

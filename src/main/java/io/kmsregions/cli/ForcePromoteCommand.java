package io.kmsregions.cli;

import io.kmsregions.lab.FaultInjector;
import io.kmsregions.region.RegionSpec;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code force-promote}: makes a Region's replica of a multi-Region key its primary at a higher
 * epoch, when the primary's Region is lost (DESIGN.md, failure model). Beyond AWS, for study.
 */
@Command(name = "force-promote", mixinStandardHelpOptions = true,
    description = "Force a replica to become primary (beyond AWS: for when the primary's Region is lost).")
final class ForcePromoteCommand implements Callable<Integer> {
  @Parameters(index = "0", description = "The Region whose replica becomes primary.")
  String region;

  @Parameters(index = "1", description = "The multi-Region key's KeyId (mrk-…).")
  String keyId;

  @Option(names = "--regions", defaultValue = "regions", description = "Folder of Region files (default: ${DEFAULT-VALUE}).")
  Path regionsDir;

  private static java.util.List<String> members(com.fasterxml.jackson.databind.JsonNode status) {
    java.util.List<String> l = new java.util.ArrayList<>();
    status.path("members").forEach(m -> l.add(m.asText()));
    return l;
  }

  @Override
  public Integer call() {
    try {
      var status = new FaultInjector(RegionSpec.load(regionsDir), null).forcePromote(region, keyId);
      System.out.println(keyId + " is primary in " + region + " at epoch " + status.path("epoch").asLong()
          + "; members " + String.join(",", members(status)));
      return 0;
    } catch (Exception e) {
      System.err.println("kms-regions force-promote: " + e.getMessage());
      return 1;
    }
  }
}

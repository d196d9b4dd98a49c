package io.kmsregions.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.lab.FaultInjector;
import io.kmsregions.lab.StatusTable;
import io.kmsregions.region.RegionSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code status}: what every Region's node sees (issue 5): a table of Regions (Up, unreachable,
 * absent, as each node sees each other), then per multi-Region key its primary, members and each
 * Region's state.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Print each Region's view of the cluster and of every multi-Region key.")
final class StatusCommand implements Callable<Integer> {

  @Option(names = "--regions", defaultValue = "regions", description = "Folder of Region files (default: ${DEFAULT-VALUE}).")
  Path regionsDir;

  @Option(names = "--all-keys", description = "Also list single-Region keys.")
  boolean allKeys;

  @Override
  public Integer call() {
    var specs = RegionSpec.load(regionsDir);
    FaultInjector f = new FaultInjector(specs, null);
    Map<String, JsonNode> views = new LinkedHashMap<>();
    for (RegionSpec s : specs) views.put(s.name(), f.status(s.name(), Duration.ofSeconds(3)));
    System.out.print(StatusTable.render(specs, views, allKeys));
    return views.values().stream().anyMatch(v -> v == null) ? 1 : 0;
  }
}

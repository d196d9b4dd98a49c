package io.kmsregions.testkit;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** The kms-regions command line run in this JVM, for tests of its exit codes and messages. */
public final class Cli {
  private Cli() {}

  /** Runs {@code args} as {@code kms-regions args}: {exit code, what it printed on stderr}. */
  public static String[] run(String... args) {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      int code = new picocli.CommandLine(new io.kmsregions.cli.Main()).execute(args);
      return new String[] {String.valueOf(code), captured.toString(StandardCharsets.UTF_8)};
    } finally {
      System.setErr(err);
    }
  }
}

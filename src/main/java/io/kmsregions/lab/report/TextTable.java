package io.kmsregions.lab.report;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table with columns aligned by padding (no ANSI: logs and CI read it too). */
final class TextTable {
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();
  private final boolean[] rightAligned;

  TextTable(String... header) {
    this.header = List.of(header);
    this.rightAligned = new boolean[header.length];
  }

  /** Right-aligns the given columns (numbers). */
  TextTable right(int... columns) {
    for (int c : columns) rightAligned[c] = true;
    return this;
  }

  TextTable row(Object... cells) {
    List<String> r = new ArrayList<>();
    for (Object c : cells) r.add(clean(c == null ? "" : c.toString()));
    rows.add(r);
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  String render(String indent) {
    int[] width = new int[header.size()];
    for (int i = 0; i < header.size(); i++) width[i] = header.get(i).length();
    for (List<String> r : rows) {
      for (int i = 0; i < r.size() && i < width.length; i++) width[i] = Math.max(width[i], r.get(i).length());
    }
    StringBuilder b = new StringBuilder();
    line(b, indent, header, width);
    List<String> rule = new ArrayList<>();
    for (int w : width) rule.add("-".repeat(w));
    line(b, indent, rule, width);
    for (List<String> r : rows) line(b, indent, r, width);
    return b.toString();
  }

  private void line(StringBuilder b, String indent, List<String> cells, int[] width) {
    StringBuilder l = new StringBuilder(indent);
    for (int i = 0; i < width.length; i++) {
      String c = i < cells.size() ? cells.get(i) : "";
      String pad = " ".repeat(width[i] - c.length());
      l.append(rightAligned[i] ? pad + c : c + pad);
      if (i < width.length - 1) l.append("  ");
    }
    b.append(l.toString().stripTrailing()).append('\n');
  }

  /**
   * History text is untrusted: control characters (an ESC sequence, a newline) would corrupt the
   * terminal or the alignment, so they are replaced.
   */
  static String clean(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      b.append(Character.isISOControl(ch) ? '?' : ch);
    }
    return b.toString();
  }
}

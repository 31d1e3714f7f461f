#!/usr/bin/env python3
"""Writes a small born-digital PDF (text layer, several pages) from a plain-text outline.

Used once to create samples/docs/*.pdf; kept so the sample can be regenerated or changed.
Input format: pages separated by a line "---"; a line starting with "# " is a heading.
Usage: make_sample_pdf.py OUTLINE.txt OUT.pdf "Document title"
"""
import sys
import textwrap


def escape(s):
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def page_stream(lines):
    out = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"]
    for kind, text in lines:
        if kind == "h":
            out += ["/F2 14 Tf", "(%s) Tj" % escape(text), "T*", "/F1 11 Tf", "T*"]
        elif kind == "blank":
            out.append("T*")
        else:
            out += ["(%s) Tj" % escape(text), "T*"]
    out.append("ET")
    return "\n".join(out).encode("latin-1")


def layout(outline):
    pages = []
    for raw_page in outline.split("\n---\n"):
        lines = []
        for para in raw_page.strip().split("\n\n"):
            para = para.strip()
            if para.startswith("# "):
                lines.append(("h", para[2:]))
                continue
            for wrapped in textwrap.wrap(" ".join(para.split()), 88):
                lines.append(("t", wrapped))
            lines.append(("blank", ""))
        pages.append(lines)
    return pages


def write_pdf(pages, title, path):
    objects = []  # index i holds object number i+1

    def add(body):
        objects.append(body)
        return len(objects)

    catalog = add(None)
    pages_obj = add(None)
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    font_bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    kids = []
    for number, lines in enumerate(pages, start=1):
        lines = lines + [("blank", ""), ("t", "%s - page %d of %d" % (title, number, len(pages)))]
        stream = page_stream(lines)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(add(("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                         "/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>"
                         % (pages_obj, content, font, font_bold)).encode()))
    objects[catalog - 1] = ("<< /Type /Catalog /Pages %d 0 R >>" % pages_obj).encode()
    objects[pages_obj - 1] = ("<< /Type /Pages /Kids [%s] /Count %d >>"
                              % (" ".join("%d 0 R" % k for k in kids), len(kids))).encode()
    info = add(("<< /Title (%s) /Producer (Strongbox sample generator) >>" % escape(title)).encode())

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, catalog, info, xref)
    with open(path, "wb") as f:
        f.write(out)


if __name__ == "__main__":
    outline_path, out_path, title = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(outline_path, encoding="utf-8") as f:
        write_pdf(layout(f.read()), title, out_path)

#!/usr/bin/env python3
"""Writes the MIME corpus (*.eml) the core/items unit tests assert on.

Each message is built here byte by byte (charsets, broken encodings, NULs),
so the corpus is reproducible: `python3 generate.py` rewrites every file and
`python3 generate.py --check` fails if a committed file differs.
"""
import base64
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CRLF = b"\r\n"


def msg(headers, body=b"", eol=CRLF, blank=True):
    out = b""
    for h in headers:
        out += (h.encode("utf-8") if isinstance(h, str) else h) + eol
    if blank:
        out += eol
    if isinstance(body, str):
        body = body.encode("utf-8")
    return out + body.replace(b"\n", eol) if eol != b"\n" else out + body


def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + width] for i in range(0, len(s), width)) + "\n"


def ew(text, charset="UTF-8"):
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(charset)).decode())


BASE = [
    "From: \"Alice Example\" <alice@example.test>",
    "To: Bob Builder <bob@example.test>",
    "Date: Tue, 01 Dec 2026 06:01:20 +0000",
    "MIME-Version: 1.0",
]
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 3 + b"\n%%EOF\n"  # 780 bytes, binary
PNG = b"\x89PNG\r\n\x1a\n" + bytes([i % 251 for i in range(300)])  # 308 bytes

M = {}

M["01_plain_ascii"] = msg(BASE + [
    "Subject: Hello Bob",
    "Message-ID: <m1@example.test>",
    "X-Priority: 1 (Highest)",
    "Content-Type: text/plain; charset=us-ascii",
], "Hi Bob,\nLunch at noon?\n\n-- \nAlice\n", eol=b"\n")

M["02_utf8"] = msg([
    "From: " + ew("Jürgen Müller") + " <juergen@example.test>",
    "To: " + ew("Zoë Ångström") + " <zoe@example.test>, plain@example.test",
    "Cc: \"Carl, Jr.\" <carl@example.test>, Dana <dana@example.test>",
    "Reply-To: replies@example.test",
    "Subject: " + ew("Grüße aus Köln ☕"),
    "Date: Mon, 30 Nov 2026 23:30:00 -0800",
    "Importance: low",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=UTF-8",
    "Content-Transfer-Encoding: 8bit",
], "Schöne Grüße — Jürgen\nПривет, 世界!\n")

M["03_latin1_qp"] = msg(BASE + [
    "Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=",
    "Content-Type: text/plain; charset=ISO-8859-1",
    "Content-Transfer-Encoding: quoted-printable",
], "Un caf=E9 cr=E8me, s'il vous pla=EEt.=\nSoft break joined.\n")

M["04_windows1252"] = msg(BASE + [
    "Subject: Quotes",
    "Content-Type: text/plain; charset=windows-1252",
    "Content-Transfer-Encoding: 8bit",
], b"He said \x93quoted\x94 \x80" + b"5 \x96 done\n")

M["05_shift_jis"] = msg(BASE + [
    "Subject: " + ew("日本語の件名", "ISO-2022-JP"),
    "Content-Type: text/plain; charset=Shift_JIS",
    "Content-Transfer-Encoding: base64",
], b64("こんにちは世界。テストです。\n".encode("shift_jis")))

M["06_koi8r"] = msg(BASE + [
    "Subject: " + ew("Привет", "KOI8-R"),
    "Content-Type: text/plain; charset=koi8-r",
    "Content-Transfer-Encoding: 8bit",
], "Привет мир\n".encode("koi8-r"))

M["07_gb2312"] = msg(BASE + [
    "Subject: " + ew("你好", "GB2312"),
    "Content-Type: text/plain; charset=gb2312",
    "Content-Transfer-Encoding: base64",
], b64("你好世界\n".encode("gb2312")))

M["08_broken_encoded_words"] = msg(BASE + [
    "Subject: =?UTF-8?B?SGVsbG8gV29ybGQ=?= =?UTF-8?Q?broken_=E2=82?= =?x-unknown?Q?abc?= =?UTF-8?B?!!!?=",
    "Content-Type: text/plain",
], "body\n")

M["09_rfc2231_filenames"] = msg(BASE + [
    "Subject: Invoices",
    "Content-Type: multipart/mixed; boundary=\"b09\"",
], "\n".join([
    "--b09",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Two invoices attached.",
    "--b09",
    "Content-Type: application/pdf",
    "Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20Rechnung%20M%C3%A4rz.pdf",
    "Content-Transfer-Encoding: base64",
    "",
    b64(PDF).rstrip("\n"),
    "--b09",
    "Content-Type: application/octet-stream",
    "Content-Disposition: attachment;",
    " filename*0*=ISO-8859-1''%E9t%E9_;",
    " filename*1=report.txt",
    "Content-Transfer-Encoding: base64",
    "",
    b64(b"hello\n").rstrip("\n"),
    "--b09",
    "Content-Type: text/plain; name=\"" + ew("résumé.txt") + "\"",
    "Content-Disposition: attachment",
    "",
    "cv",
    "--b09--",
    "",
]))

M["10_html_only"] = msg(BASE + [
    "Subject: HTML only",
    "Content-Type: text/html; charset=utf-8",
], "<html><head><title>T</title><style>p{color:red}</style></head><body>"
   "<p>Hello &amp; welcome,</p><p>line&nbsp;two<br>line three &#8364; &eacute;</p>"
   "<script>alert('x')</script><!-- hidden --></body></html>\n")

M["11_alternative"] = msg(BASE + [
    "Subject: Alternative",
    "Content-Type: multipart/alternative; boundary=\"alt11\"",
], "\n".join([
    "preamble",
    "--alt11",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Plain version",
    "--alt11",
    "Content-Type: text/html; charset=utf-8",
    "",
    "<p>HTML <b>version</b></p>",
    "--alt11--",
    "",
]))

M["12_related_inline"] = msg(BASE + [
    "Subject: Inline image",
    "Content-Type: multipart/related; boundary=\"rel12\"; type=\"multipart/alternative\"",
], "\n".join([
    "--rel12",
    "Content-Type: multipart/alternative; boundary=\"alt12\"",
    "",
    "--alt12",
    "Content-Type: text/plain",
    "",
    "See the logo",
    "--alt12",
    "Content-Type: text/html",
    "",
    "<p>See <img src=\"cid:logo@example.test\"></p>",
    "--alt12--",
    "--rel12",
    "Content-Type: image/png",
    "Content-ID: <logo@example.test>",
    "Content-Disposition: inline; filename=\"logo.png\"",
    "Content-Transfer-Encoding: base64",
    "",
    b64(PNG).rstrip("\n"),
    "--rel12--",
    "",
]))

M["13_mixed_attachments"] = msg(BASE + [
    "Subject: Several attachments",
    "Content-Type: multipart/mixed; boundary=mix13",
], "\n".join([
    "--mix13",
    "Content-Type: text/plain",
    "",
    "Files attached.",
    "--mix13",
    "Content-Type: application/pdf; name=doc.pdf",
    "Content-Disposition: attachment; filename=doc.pdf",
    "Content-Transfer-Encoding: base64",
    "",
    b64(PDF).rstrip("\n"),
    "--mix13",
    "Content-Type: text/csv; name=data.csv",
    "Content-Disposition: attachment; filename=\"data.csv\"",
    "",
    "a,b\n1,2",
    "--mix13",
    "Content-Type: image/png",
    "Content-Transfer-Encoding: base64",
    "",
    b64(PNG).rstrip("\n"),
    "--mix13",
    "Content-Type: text/plain",
    "",
    "List footer",
    "--mix13--",
    "",
]))

INNER = msg([
    "From: carol@example.test",
    "To: alice@example.test",
    "Subject: Inner subject",
    "Date: Sun, 29 Nov 2026 10:00:00 +0000",
    "Content-Type: text/plain",
], "inner body\n", eol=b"\n").decode()

M["14_attached_message"] = msg(BASE + [
    "Subject: Fwd: Inner subject",
    "Content-Type: multipart/mixed; boundary=\"fwd14\"",
], "\n".join([
    "--fwd14",
    "Content-Type: text/plain",
    "",
    "Forwarding this.",
    "--fwd14",
    "Content-Type: message/rfc822",
    "Content-Disposition: attachment",
    "",
    INNER.rstrip("\n"),
    "--fwd14--",
    "",
]))

M["15_nested"] = msg(BASE + [
    "Subject: Nested",
    "Content-Type: multipart/mixed; boundary=\"n1\"",
], "\n".join([
    "--n1",
    "Content-Type: multipart/alternative; boundary=\"n2\"",
    "",
    "--n2",
    "Content-Type: text/plain",
    "",
    "nested plain",
    "--n2",
    "Content-Type: multipart/related; boundary=\"n3\"",
    "",
    "--n3",
    "Content-Type: text/html",
    "",
    "<div>nested html <img src=\"cid:pic\"></div>",
    "--n3",
    "Content-Type: image/gif",
    "Content-ID: <pic>",
    "Content-Transfer-Encoding: base64",
    "",
    b64(b"GIF89a" + b"\x00" * 20).rstrip("\n"),
    "--n3--",
    "--n2--",
    "--n1",
    "Content-Type: application/zip",
    "Content-Disposition: attachment; filename=\"archive.zip\"",
    "Content-Transfer-Encoding: base64",
    "",
    b64(b"PK\x03\x04" + b"z" * 96).rstrip("\n"),
    "--n1--",
    "",
]))

M["16_smime_signed"] = msg(BASE + [
    "Subject: Signed",
    "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"sig16\"",
], "\n".join([
    "This is an S/MIME signed message",
    "--sig16",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Signed text",
    "--sig16",
    "Content-Type: application/pkcs7-signature; name=smime.p7s",
    "Content-Transfer-Encoding: base64",
    "Content-Disposition: attachment; filename=smime.p7s",
    "",
    b64(bytes(range(64))).rstrip("\n"),
    "--sig16--",
    "",
]))

M["17_smime_encrypted"] = msg(BASE + [
    "Subject: Encrypted",
    "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m",
    "Content-Disposition: attachment; filename=smime.p7m",
    "Content-Transfer-Encoding: base64",
], b64(bytes(range(128))))

M["18_calendar_invite"] = msg(BASE + [
    "Subject: Invitation: Review",
    "Content-Type: multipart/alternative; boundary=\"cal18\"",
], "\n".join([
    "--cal18",
    "Content-Type: text/plain",
    "",
    "You are invited.",
    "--cal18",
    "Content-Type: text/calendar; charset=utf-8; method=REQUEST",
    "",
    "BEGIN:VCALENDAR",
    "METHOD:REQUEST",
    "BEGIN:VEVENT",
    "UID:abc@example.test",
    "SUMMARY:Review",
    "DTSTART:20261202T100000Z",
    "END:VEVENT",
    "END:VCALENDAR",
    "--cal18--",
    "",
]))

M["19_no_body"] = msg(BASE + ["Subject: Nothing inside"], b"")

M["20_broken_base64"] = msg(BASE + [
    "Subject: Broken base64",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: base64",
], "SGVsbG8g*&^V29y\nbGQh!!!=\n===garbage\n")

M["21_missing_boundary"] = msg(BASE + [
    "Subject: No boundary",
    "Content-Type: multipart/mixed",
], "--xyz\nContent-Type: text/plain\n\nlost text\n--xyz--\n")

M["22_header_only"] = msg(BASE + ["Subject: Only headers"], blank=False)

M["23_huge_header"] = msg(BASE + [
    "Subject: " + "Long " * 4000,
    "X-Long: " + "x" * 100000,
    "Content-Type: text/plain",
], "short body\n")

M["24_nul_bytes"] = msg(BASE + [
    "Subject: NUL\x00inside",
    "Content-Type: text/plain; charset=utf-8",
], b"before\x00after\x00\x01end\n")

M["25_8bit_headers"] = msg([
    b"From: J\xfcrgen Latin <jl@example.test>",
    "To: Bob <bob@example.test>".encode(),
    "Subject: Prüfung ✓ bestanden".encode("utf-8"),
    b"Date: Tue, 01 Dec 2026 06:01:20 +0000",
    b"Content-Type: text/plain; charset=utf-8",
], "Inhalt\n")

M["26_missing_content_type"] = msg([
    "From: old@example.test",
    "To: bob@example.test",
    "Subject: Legacy",
], b"Gr\xfc\xdfe aus M\xfcnchen\n")

M["27_report_ndr"] = msg([
    "From: MAILER-DAEMON@example.test",
    "To: alice@example.test",
    "Subject: Undelivered Mail Returned to Sender",
    "Date: Tue, 01 Dec 2026 06:01:20 +0000",
    "MIME-Version: 1.0",
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r27\"",
], "\n".join([
    "--r27",
    "Content-Type: text/plain",
    "",
    "Your message could not be delivered.",
    "--r27",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.example.test",
    "",
    "Final-Recipient: rfc822; nobody@example.test",
    "Action: failed",
    "Status: 5.1.1",
    "--r27--",
    "",
]))

M["28_thread_reply"] = msg([
    "From: Bob Builder <bob@example.test>",
    "To: \"Alice Example\" <alice@example.test>",
    "Subject: RE: Re: Hello Bob",
    "Date: Tue, 01 Dec 2026 07:00:00 +0000",
    "Message-ID: <m2@example.test>",
    "In-Reply-To: <m1@example.test>",
    "References: <m1@example.test>",
    "Content-Type: text/plain",
], "Noon works.\n")

M["29_format_flowed"] = msg(BASE + [
    "Subject: Flowed",
    "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=no",
], "This is a long \nparagraph that \nwraps.\n> quoted \n> text\nFrom here\n \n-- \nsig\n")


def main():
    check = "--check" in sys.argv
    bad = 0
    for name, data in sorted(M.items()):
        path = os.path.join(HERE, name + ".eml")
        if check:
            try:
                with open(path, "rb") as f:
                    if f.read() != data:
                        print("differs: " + path)
                        bad += 1
            except OSError:
                print("missing: " + path)
                bad += 1
        else:
            with open(path, "wb") as f:
                f.write(data)
    print("%d messages%s" % (len(M), ", %d differ" % bad if check else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Generates the ActiveSync WBXML corpus (XML in libwbxml2's form) in this folder.

Run from anywhere:  python3 test/corpus/wbxml/generate.py [--check]
  (no flag)  rewrites the *.xml files and the fuzz seeds in test/fuzz/wbxml/corpus/
             and test/fuzz/wbxml/xml_corpus/
  --check    regenerates in memory and fails if a committed file differs

Each document is written exactly as `wbxml2xml -l ACTIVESYNC -i 2` prints it:
the XML declaration, the ActiveSync DOCTYPE, one element per line indented by
two spaces, `xmlns="Page:"` on every element whose code page differs from its
parent's, OPAQUE content as base64 (only for the tags libwbxml2 treats as
opaque, see test/oracle/libwbxml_tags.tsv), one newline after the root.

Checks made for every document (the script fails if one does not hold):
  * every (namespace, name) exists in libwbxml2's table (libwbxml_tags.tsv),
    and no name is one where libwbxml2 differs from MS-ASWBXML (SPEC_CLASH);
  * fixed point: `xml2wbxml -a -n` then `wbxml2xml -l ACTIVESYNC -i 2` gives
    the file back byte for byte (so libwbxml2 reads and writes this form);
  * the worked examples of protocol.md section 2.2 encode to the exact bytes
    given there.
Contents are deterministic (fixed seeds), so regenerating changes nothing.
"""
import base64
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
TAGS_TSV = os.path.join(ROOT, 'test', 'oracle', 'libwbxml_tags.tsv')
SEED_DIR = os.path.join(ROOT, 'test', 'fuzz', 'wbxml', 'corpus')
XML_SEED_DIR = os.path.join(ROOT, 'test', 'fuzz', 'wbxml', 'xml_corpus')

HEADER = ('<?xml version="1.0"?>\n<!DOCTYPE ActiveSync PUBLIC '
          '"-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">\n')

# Names libwbxml2 0.11 spells differently from MS-ASWBXML (or lacks), on the
# pages this corpus touches; using them would make the corpus non-spec or
# unreadable for libwbxml2. (namespace, libwbxml2 name): spec name.
SPEC_CLASH = {
    ('Email', 'DTStamp'): 'DtStamp',
    ('Email', 'Reply-To'): 'ReplyTo',
    ('Email', 'FlagStatus'): 'Status',
    ('Email', 'Recurrence_Type'): 'Type',
    ('Calendar', 'TimeZone'): 'Timezone',
    ('Calendar', 'DTStamp'): 'DtStamp',
    ('Calendar', 'Attendee_Email'): 'Email',
    ('Calendar', 'Attendee_Name'): 'Name',
    ('Calendar', 'Organizer_Email'): 'OrganizerEmail',
    ('Calendar', 'Organizer_Name'): 'OrganizerName',
    ('Contacts', 'AssistantTelephoneNumber'): 'AssistantPhoneNumber',
    ('Contacts', 'BusinessCity'): 'BusinessAddressCity',
    ('Tasks', 'UTCDueDate'): 'UtcDueDate',
    ('Tasks', 'UTCStartDate'): 'UtcStartDate',
    ('Provision', 'DeviceEncryptionEnabled'): 'RequireStorageCardEncryption',
    ('Settings', 'SmtpAddress'): 'SMTPAddress',
    ('Settings', 'ihsManagementInformation'): 'RightsManagementInformation',
    ('ComposeMail', 'MIME'): 'Mime',
}


class E:
    """One element: namespace (code page name), name, text or opaque bytes, children."""

    def __init__(self, ns, name, text=None, children=None, opaque=None):
        self.ns, self.name, self.text, self.opaque = ns, name, text, opaque
        self.children = children or []


def load_tags():
    tags = {}
    with open(TAGS_TSV) as f:
        for line in f:
            if line.startswith('#'):
                continue
            page, token, ns, name, opaque = line.rstrip('\n').split('\t')
            tags[(ns, name)] = (int(page), int(token, 16), opaque == '1')
    return tags


def escape(s):
    return (s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
             .replace('"', '&quot;').replace("'", '&apos;'))


def render(root):
    lines = []

    def walk(e, depth, parent_ns):
        pad = '  ' * depth
        attr = '' if e.ns == parent_ns else ' xmlns="%s:"' % e.ns
        if e.opaque is not None:
            content = base64.b64encode(e.opaque).decode()
        else:
            content = escape(e.text) if e.text is not None else None
        if e.children:
            lines.append('%s<%s%s>' % (pad, e.name, attr))
            for c in e.children:
                walk(c, depth + 1, e.ns)
            lines.append('%s</%s>' % (pad, e.name))
        elif content:
            lines.append('%s<%s%s>%s</%s>' % (pad, e.name, attr, content, e.name))
        else:
            lines.append('%s<%s%s/>' % (pad, e.name, attr))

    walk(root, 0, None)
    return HEADER + '\n'.join(lines) + '\n'


def validate(doc_name, root, tags):
    def walk(e):
        key = (e.ns, e.name)
        if key not in tags:
            sys.exit('%s: <%s> is not in namespace %s for libwbxml2' % (doc_name, e.name, e.ns))
        if key in SPEC_CLASH:
            sys.exit('%s: <%s:%s> is not the spec name' % (doc_name, e.ns, e.name))
        if e.opaque is not None and not tags[key][2]:
            sys.exit('%s: libwbxml2 cannot carry OPAQUE in <%s>' % (doc_name, e.name))
        if e.text is not None and e.text != e.text.strip(' \t\n\r'):
            sys.exit('%s: <%s> text has outer whitespace (libwbxml2 trims it)' % (doc_name, e.name))
        if e.text is not None and '\r' in e.text:
            sys.exit('%s: <%s> text has CR (XML parsers turn CRLF into LF)' % (doc_name, e.name))
        if e.children and (e.text or e.opaque):
            sys.exit('%s: <%s> mixes text and children' % (doc_name, e.name))
        for c in e.children:
            walk(c)
    walk(root)


# ---------------------------------------------------------------- helpers

def A(name, text=None, *children):
    return E('AirSync', name, text, list(children))


def ns_maker(ns):
    def make(name, text=None, *children, opaque=None):
        return E(ns, name, text, list(children), opaque)
    return make


AS = ns_maker('AirSync')
FH = ns_maker('FolderHierarchy')
PI = ns_maker('Ping')
PR = ns_maker('Provision')
EM = ns_maker('Email')
E2 = ns_maker('Email2')
AB = ns_maker('AirSyncBase')
IO = ns_maker('ItemOperations')
SE = ns_maker('Search')
GA = ns_maker('Gal')
ST = ns_maker('Settings')
CO = ns_maker('Contacts')
CA = ns_maker('Calendar')
TA = ns_maker('Tasks')
NO = ns_maker('Notes')
MV = ns_maker('Move')
GE = ns_maker('GetItemEstimate')
MR = ns_maker('MeetingResponse')
RR = ns_maker('ResolveRecipients')
VC = ns_maker('ValidateCert')

WORDS = ('the quarterly report budget meeting agenda draft review project deadline '
         'customer invoice shipment schedule update please find attached thanks regards '
         'server migration backup calendar contact offsite team lunch Friday Monday '
         'approval contract signed pending follow-up question answer').split()
NAMES = [('Alice Martin', 'alice.martin'), ('Bob Dupont', 'bob.dupont'),
         ('Chloé Lefèvre', 'chloe.lefevre'), ('Dmitri Ivanov', 'dmitri.ivanov'),
         ('Eva Müller', 'eva.mueller'), ('Fumiko Tanaka', 'fumiko.tanaka'),
         ('Gabriel O\'Neil', 'gabriel.oneil'), ('Hana Novák', 'hana.novak')]


def sentence(rng, n):
    words = [rng.choice(WORDS) for _ in range(n)]
    return ' '.join(words).capitalize()


def body_text(rng, size):
    """Plain text of about `size` bytes: lines, a quoted reply, XML-special and non-ASCII characters."""
    parts = ['Hello,', '']
    while sum(len(p.encode()) + 1 for p in parts) < size - 200:
        parts.append(sentence(rng, rng.randint(6, 14)) + '.')
        if rng.random() < 0.15:
            parts.append('> ' + sentence(rng, 8) + ' <quoted> & "cited" text')
        if rng.random() < 0.1:
            parts.append('Prix: 12 € – naïve café, 日本語のテキスト, ✓ done')
        if rng.random() < 0.2:
            parts.append('')
    parts += ['', 'Regards,', 'Alice', '-- ', 'Alice Martin | Example Corp | +1 555 0100']
    text = '\n'.join(parts)
    while len(text.encode()) < size:
        text += '\n' + sentence(rng, 5) + '.'
    raw = text.encode()[:size]
    return raw.decode('utf-8', 'ignore').strip()


def iso(day, minute):
    return '2026-11-%02dT%02d:%02d:%02d.000Z' % (1 + day % 28, (minute // 60) % 24, minute % 60,
                                                 (day * 7 + minute) % 60)


# ---------------------------------------------------------------- documents

def foldersync_request():
    return FH('FolderSync', None, FH('SyncKey', '0'))


def sync_request_initial():
    return AS('Sync', None, AS('Collections', None, AS('Collection', None,
              AS('SyncKey', '0'), AS('CollectionId', '5'))))


def ping_request():
    return PI('Ping', None, PI('HeartbeatInterval', '480'), PI('Folders', None,
              PI('Folder', None, PI('Id', '5'), PI('Class', 'Email'))))


def ping_request_many():
    folders = [PI('Folder', None, PI('Id', str(i)), PI('Class', cls))
               for i, cls in [(2, 'Email'), (5, 'Email'), (9, 'Calendar'), (10, 'Contacts'),
                              (11, 'Tasks'), (12, 'Notes')]]
    return PI('Ping', None, PI('HeartbeatInterval', '900'), PI('Folders', None, *folders))


def ping_response():
    return PI('Ping', None, PI('Status', '2'), PI('Folders', None,
              PI('Folder', '5'), PI('Folder', '9')))


def ping_response_error():
    return PI('Ping', None, PI('Status', '5'), PI('HeartbeatInterval', '60'))


def sync_response_empty():
    # The smallest realistic answer: unchanged collection, empty elements.
    return AS('Sync', None, AS('Collections', None, AS('Collection', None,
              AS('SyncKey', '{3f2a7c1e-0b5d-4e8a-9c61-7d2e5f4a1b90}2'), AS('CollectionId', '5'),
              AS('Status', '1'), AS('MoreAvailable'))))


def provision_request():
    return PR('Provision', None,
              ST('DeviceInformation', None, ST('Set', None,
                 ST('Model', 'iPhone15,3'), ST('IMEI', '356938035643809'),
                 ST('FriendlyName', 'Alice\'s iPhone'), ST('OS', 'iOS 18.1 22B83'),
                 ST('OSLanguage', 'en-US'), ST('PhoneNumber', '+15550100'),
                 ST('UserAgent', 'Apple-iPhone15C3/2201.83'),
                 ST('MobileOperator', 'Example Mobile'))),
              PR('Policies', None, PR('Policy', None,
                 PR('PolicyType', 'MS-EAS-Provisioning-WBXML'))))


def provision_ack_request():
    return PR('Provision', None, PR('Policies', None, PR('Policy', None,
              PR('PolicyType', 'MS-EAS-Provisioning-WBXML'), PR('PolicyKey', '3942919513'),
              PR('Status', '1'))))


def provision_response():
    settings = [
        ('DevicePasswordEnabled', '1'), ('AlphanumericDevicePasswordRequired', '0'),
        ('PasswordRecoveryEnabled', '0'), ('AttachmentsEnabled', '1'),
        ('MinDevicePasswordLength', '6'), ('MaxInactivityTimeDeviceLock', '900'),
        ('MaxDevicePasswordFailedAttempts', '8'), ('MaxAttachmentSize', '10485760'),
        ('AllowSimpleDevicePassword', '0'), ('DevicePasswordExpiration', '90'),
        ('DevicePasswordHistory', '5'), ('AllowStorageCard', '1'), ('AllowCamera', '1'),
        ('RequireDeviceEncryption', '1'), ('AllowUnsignedApplications', '0'),
        ('AllowUnsignedInstallationPackages', '0'), ('MinDevicePasswordComplexCharacters', '3'),
        ('AllowWiFi', '1'), ('AllowTextMessaging', '1'), ('AllowPOPIMAPEmail', '1'),
        ('AllowBluetooth', '2'), ('AllowIrDA', '1'), ('RequireManualSyncWhenRoaming', '0'),
        ('AllowDesktopSync', '1'), ('MaxCalendarAgeFilter', '0'), ('AllowHTMLEmail', '1'),
        ('MaxEmailAgeFilter', '0'), ('MaxEmailBodyTruncationSize', '-1'),
        ('MaxEmailHTMLBodyTruncationSize', '-1'), ('RequireSignedSMIMEMessages', '0'),
        ('RequireEncryptedSMIMEMessages', '0'), ('RequireSignedSMIMEAlgorithm', '0'),
        ('RequireEncryptionSMIMEAlgorithm', '0'), ('AllowSMIMEEncryptionAlgorithmNegotiation', '2'),
        ('AllowSMIMESoftCerts', '1'), ('AllowBrowser', '1'), ('AllowConsumerEmail', '1'),
        ('AllowRemoteDesktop', '1'), ('AllowInternetSharing', '1'),
    ]
    doc = [PR(n, v) for n, v in settings]
    doc.append(PR('UnapprovedInROMApplicationList', None,
                  PR('ApplicationName', 'Example Browser'), PR('ApplicationName', 'Games & Fun')))
    doc.append(PR('ApprovedApplicationList', None,
                  PR('Hash', '0A1B2C3D4E5F60718293A4B5C6D7E8F901234567'),
                  PR('Hash', 'FFEEDDCCBBAA99887766554433221100FFEEDDCC')))
    return PR('Provision', None,
              ST('DeviceInformation', None, ST('Status', '1')),
              PR('Status', '1'),
              PR('Policies', None, PR('Policy', None,
                 PR('PolicyType', 'MS-EAS-Provisioning-WBXML'), PR('Status', '1'),
                 PR('PolicyKey', '1307199584'),
                 PR('Data', None, PR('EASProvisionDoc', None, *doc)))))


def provision_remote_wipe():
    return PR('Provision', None, PR('Status', '1'), PR('RemoteWipe'))


FOLDER_TYPES = [(2, 'Inbox'), (3, 'Drafts'), (4, 'Deleted Items'), (5, 'Sent Items'),
                (6, 'Outbox'), (7, 'Tasks'), (8, 'Calendar'), (9, 'Contacts'), (10, 'Notes')]


def foldersync_response(count=200):
    rng = random.Random(7)
    folders = []
    for i, (typ, name) in enumerate(FOLDER_TYPES):
        folders.append((str(i + 1), '0', name, str(typ)))
    while len(folders) < count:
        i = len(folders) + 1
        parent = rng.choice(['1'] + [f[0] for f in folders if f[3] in ('1', '12')] or ['1'])
        kind = rng.random()
        typ = '12' if kind < 0.8 else ('13' if kind < 0.9 else '14')
        label = '%s %s %d' % (rng.choice(['Projects', 'Clients', 'Archive', 'Lists', 'Travel',
                                          'Receipts', 'Équipe', 'R&D', 'Ops <old>', '2026']),
                              rng.choice(WORDS), i)
        folders.append((str(i), parent, label, typ))
    adds = [FH('Add', None, FH('ServerId', sid), FH('ParentId', pid), FH('DisplayName', name),
               FH('Type', typ)) for sid, pid, name, typ in folders]
    return FH('FolderSync', None, FH('Status', '1'),
              FH('SyncKey', '{9b1f2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d}1'),
              FH('Changes', None, FH('Count', str(len(adds))), *adds))


def email_item(rng, n, body_size, with_conversation=True):
    sender_name, sender = NAMES[n % len(NAMES)]
    to_name, to = NAMES[(n + 3) % len(NAMES)]
    subject = sentence(rng, rng.randint(3, 8))
    if n % 5 == 0:
        subject = 'RE: ' + subject + ' & <follow-up>'
    data = [
        EM('To', '"%s" <%s@example.com>' % (to_name, to)),
        EM('From', '"%s" <%s@example.org>' % (sender_name, sender)),
        EM('Subject', subject),
        EM('DateReceived', iso(n, n * 37)),
        EM('DisplayTo', to_name),
        EM('ThreadTopic', subject.replace('RE: ', '')),
        EM('Importance', str(n % 3)),
        EM('Read', '1' if n % 4 else '0'),
    ]
    if n % 3 == 0:
        atts = []
        for a in range(1 + n % 2):
            atts.append(AB('Attachment', None,
                           AB('DisplayName', ['report-Q4.pdf', 'photo 001.jpg', 'data.xlsx'][(n + a) % 3]),
                           AB('FileReference', '5%%3a%d%%3a%d' % (n, a)),
                           AB('Method', '1'),
                           AB('EstimatedDataSize', str(10000 + 3517 * (n + a))),
                           *([AB('ContentId', 'part%d.%d@example.org' % (n, a)),
                              AB('IsInline', '1')] if a else [])))
        data.append(AB('Attachments', None, *atts))
    text = body_text(rng, body_size)
    data.append(AB('Body', None, AB('Type', '1'),
                   AB('EstimatedDataSize', str(len(text.encode()))), AB('Data', text)))
    data += [EM('MessageClass', 'IPM.Note'), EM('InternetCPID', '65001'),
             EM('Flag', None, *([EM('FlagType', 'Follow up')] if n % 7 == 0 else [])),
             EM('ContentClass', 'urn:content-classes:message'),
             AB('NativeBodyType', '1')]
    if with_conversation:
        data += [E2('ConversationId', opaque=bytes(rng.getrandbits(8) for _ in range(16))),
                 E2('ConversationIndex', opaque=bytes(rng.getrandbits(8) for _ in range(5)))]
    if n % 6 == 0:
        data.append(EM('Categories', None, EM('Category', 'Work'), EM('Category', 'Urgent')))
    else:
        data.append(EM('Categories'))
    return AS('Add', None, AS('ServerId', '5:%d' % (n + 1)), AS('ApplicationData', None, *data))


def sync_response(count=100, body_size=4096, seed=11):
    rng = random.Random(seed)
    adds = [email_item(rng, n, body_size) for n in range(count)]
    return AS('Sync', None, AS('Collections', None, AS('Collection', None,
              AS('SyncKey', '{5d1e0a9b-2c3f-4d5e-8f6a-7b8c9d0e1f2a}7'), AS('CollectionId', '5'),
              AS('Status', '1'), AS('Commands', None, *adds), AS('MoreAvailable'))))


def sync_request_fetch_window():
    return AS('Sync', None, AS('Collections', None, AS('Collection', None,
              AS('SyncKey', '{5d1e0a9b-2c3f-4d5e-8f6a-7b8c9d0e1f2a}6'), AS('CollectionId', '5'),
              AS('DeletesAsMoves', '1'), AS('GetChanges'), AS('WindowSize', '100'),
              AS('Options', None, AS('FilterType', '3'),
                 AB('BodyPreference', None, AB('Type', '2'), AB('TruncationSize', '200000'),
                    AB('AllOrNone', '0')),
                 AS('MIMESupport', '0')),
              AS('Commands', None,
                 AS('Change', None, AS('ServerId', '5:3'),
                    AS('ApplicationData', None, EM('Read', '1'))),
                 AS('Delete', None, AS('ServerId', '5:4')),
                 AS('Fetch', None, AS('ServerId', '5:9'))))),
              AS('WindowSize', '100'))


def sync_response_mixed():
    """Contacts, calendar, tasks and notes items (only names libwbxml2 spells as the spec)."""
    contact = AS('Add', None, AS('ServerId', '10:1'), AS('ApplicationData', None,
                 CO('FileAs', 'Dupont, Bob'), CO('FirstName', 'Bob'), CO('LastName', 'Dupont'),
                 CO('CompanyName', 'Example & Sons'), CO('JobTitle', 'Engineer'),
                 CO('Email1Address', '"Bob Dupont" <bob.dupont@example.com>'),
                 CO('MobilePhoneNumber', '+33 6 12 34 56 78'),
                 CO('Categories', None, CO('Category', 'Friends')),
                 AB('Body', None, AB('Type', '1'), AB('Data', 'Met at the conference.\nLikes café.')),
                 ABNATIVE('1')))
    event = AS('Add', None, AS('ServerId', '9:1'), AS('ApplicationData', None,
               CA('AllDayEvent', '0'), CA('StartTime', '20261203T090000Z'),
               CA('EndTime', '20261203T100000Z'), CA('Subject', 'Weekly sync'),
               CA('Location', 'Room 4 <north>'), CA('UID', '040000008200E00074C5B7101A82E008'),
               CA('Sensitivity', '0'), CA('BusyStatus', '2'), CA('MeetingStatus', '0'),
               CA('Reminder', '15'),
               AB('Body', None, AB('Type', '1'), AB('Data', 'Agenda:\n1. status\n2. risks'))))
    task = AS('Add', None, AS('ServerId', '11:1'), AS('ApplicationData', None,
              TA('Subject', 'File expense report'), TA('Importance', '2'), TA('Complete', '0'),
              TA('DueDate', '2026-12-05T00:00:00.000Z'), TA('ReminderSet', '0'),
              TA('Sensitivity', '0')))
    note = AS('Add', None, AS('ServerId', '12:1'), AS('ApplicationData', None,
              NO('Subject', 'Groceries'), NO('MessageClass', 'IPM.StickyNote'),
              NO('LastModifiedDate', '2026-11-30T18:04:05.000Z'),
              NO('Categories', None, NO('Category', 'Home')),
              AB('Body', None, AB('Type', '1'), AB('Data', 'milk, eggs, bread'))))
    cols = []
    for cid, key, item in [('10', '3', contact), ('9', '8', event), ('11', '2', task), ('12', '5', note)]:
        cols.append(AS('Collection', None, AS('SyncKey', key), AS('CollectionId', cid),
                       AS('Status', '1'), AS('Commands', None, item)))
    cols.append(AS('Collection', None, AS('SyncKey', '4'), AS('CollectionId', '13'),
                   AS('Status', '8')))
    return AS('Sync', None, AS('Collections', None, *cols))


def ABNATIVE(v):
    return AB('NativeBodyType', v)


def itemoperations_fetch_request():
    return IO('ItemOperations', None,
              IO('Fetch', None, IO('Store', 'Mailbox'), AB('FileReference', '5%3a3%3a0')),
              IO('Fetch', None, IO('Store', 'Mailbox'), AS('CollectionId', '5'),
                 AS('ServerId', '5:7'),
                 IO('Options', None, AB('BodyPreference', None, AB('Type', '4')),
                    AS('MIMESupport', '2'))))


def itemoperations_response():
    rng = random.Random(23)
    attachment = bytes(rng.getrandbits(8) for _ in range(6000))
    rng2 = random.Random(29)
    mime = ('From: "Alice Martin" <alice.martin@example.org>\nTo: bob.dupont@example.com\n'
            'Subject: Re: budget\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n'
            + body_text(rng2, 1500))
    return IO('ItemOperations', None, IO('Status', '1'), IO('Response', None,
              IO('Fetch', None, IO('Status', '1'), AB('FileReference', '5%3a3%3a0'),
                 IO('Properties', None, AB('ContentType', 'application/pdf'),
                    IO('Total', str(len(attachment))),
                    IO('Data', base64.b64encode(attachment).decode()))),
              IO('Fetch', None, IO('Status', '1'), AS('CollectionId', '5'), AS('ServerId', '5:7'),
                 AS('Class', 'Email'),
                 IO('Properties', None,
                    EM('To', 'bob.dupont@example.com'),
                    EM('From', '"Alice Martin" <alice.martin@example.org>'),
                    EM('Subject', 'Re: budget'), EM('DateReceived', '2026-11-29T08:15:00.000Z'),
                    EM('Read', '1'),
                    AB('Body', None, AB('Type', '4'),
                       AB('EstimatedDataSize', str(len(mime.encode()))), AB('Data', mime)),
                    E2('ConversationId', opaque=bytes(range(0xF0, 0x100))),
                    E2('ConversationIndex', opaque=b'\x01\xd9\x5a\x00\xff'))),
              IO('Fetch', None, IO('Status', '6'), AB('FileReference', '5%3a99%3a0'))))


def search_request():
    return SE('Search', None, SE('Store', None, SE('Name', 'Mailbox'),
              SE('Query', None, SE('And', None, AS('Class', 'Email'), AS('CollectionId', '5'),
                                   SE('FreeText', 'budget report'),
                                   SE('GreaterThan', None, EM('DateReceived'),
                                      SE('Value', '2026-10-01T00:00:00.000Z')))),
              SE('Options', None, SE('Range', '0-49'), SE('DeepTraversal'), SE('RebuildResults'),
                 AB('BodyPreference', None, AB('Type', '1'), AB('TruncationSize', '5120')))))


def search_response():
    rng = random.Random(31)
    results = []
    for n in range(10):
        item = email_item(rng, n, 512, with_conversation=(n % 2 == 0))
        appdata = item.children[1]
        results.append(SE('Result', None, AS('Class', 'Email'), SE('LongId', 'RgAAAAD%04dAAA' % n),
                          AS('CollectionId', '5'),
                          SE('Properties', None, *appdata.children)))
    return SE('Search', None, SE('Status', '1'), SE('Response', None, SE('Store', None,
              SE('Status', '1'), *results, SE('Range', '0-9'), SE('Total', '37'))))


def search_gal_request():
    return SE('Search', None, SE('Store', None, SE('Name', 'GAL'), SE('Query', 'mar'),
              SE('Options', None, SE('Range', '0-9'),
                 SE('Picture', None, SE('MaxSize', '10240'), SE('MaxPictures', '2')))))


def search_gal_response():
    rng = random.Random(37)
    results = []
    for n, (name, user) in enumerate(NAMES[:5]):
        first, last = name.split(' ', 1)
        props = [GA('DisplayName', name), GA('Phone', '+1 555 01%02d' % n), GA('Office', 'B%d' % n),
                 GA('Title', 'Engineer'), GA('Company', 'Example Corp'), GA('Alias', user),
                 GA('FirstName', first), GA('LastName', last),
                 GA('MobilePhone', '+1 555 02%02d' % n),
                 GA('EmailAddress', '%s@example.com' % user)]
        if n < 2:
            props.append(GA('Picture', None, GA('Status', '1'),
                            GA('Data', opaque=bytes(rng.getrandbits(8) for _ in range(700)))))
        elif n == 2:
            props.append(GA('Picture', None, GA('Status', '173')))
        results.append(SE('Result', None, SE('Properties', None, *props)))
    return SE('Search', None, SE('Status', '1'), SE('Response', None, SE('Store', None,
              SE('Status', '1'), *results, SE('Range', '0-4'), SE('Total', '5'))))


def settings_request():
    return ST('Settings', None,
              ST('Oof', None, ST('Get', None, ST('BodyType', 'Text'))),
              ST('DeviceInformation', None, ST('Set', None,
                 ST('Model', 'Pixel 8'), ST('FriendlyName', 'Work phone'),
                 ST('OS', 'Android 15'), ST('OSLanguage', 'de-DE'),
                 ST('UserAgent', 'Android-Mail/2026.11'), ST('EnableOutboundSMS', '0'))),
              ST('UserInformation', None, ST('Get')))


def settings_set_oof_request():
    return ST('Settings', None, ST('Oof', None, ST('Set', None,
              ST('OofState', '2'), ST('StartTime', '2026-12-20T00:00:00.000Z'),
              ST('EndTime', '2027-01-04T00:00:00.000Z'),
              ST('OofMessage', None, ST('AppliesToInternal'), ST('Enabled', '1'),
                 ST('ReplyMessage', 'I am away until 4 January.\nUrgent: call +1 555 0100.'),
                 ST('BodyType', 'Text')),
              ST('OofMessage', None, ST('AppliesToExternalKnown'), ST('Enabled', '0')),
              ST('OofMessage', None, ST('AppliesToExternalUnknown'), ST('Enabled', '0')))))


def settings_response():
    return ST('Settings', None, ST('Status', '1'),
              ST('Oof', None, ST('Status', '1'), ST('Get', None,
                 ST('OofState', '0'),
                 ST('OofMessage', None, ST('AppliesToInternal'), ST('Enabled', '0'),
                    ST('ReplyMessage', 'Out of office & <offline>'), ST('BodyType', 'Text')),
                 ST('OofMessage', None, ST('AppliesToExternalKnown'), ST('Enabled', '0')),
                 ST('OofMessage', None, ST('AppliesToExternalUnknown'), ST('Enabled', '0')))),
              ST('DeviceInformation', None, ST('Status', '1')),
              ST('UserInformation', None, ST('Status', '1'), ST('Get', None,
                 ST('Accounts', None, ST('Account', None,
                    ST('UserDisplayName', 'Alice Martin'),
                    ST('EmailAddresses', None,
                       ST('PrimarySmtpAddress', 'alice.martin@example.com')))))))


def moveitems_request():
    moves = [MV('Move', None, MV('SrcMsgId', '5:%d' % i), MV('SrcFldId', '5'), MV('DstFldId', '17'))
             for i in (3, 8, 21)]
    return MV('MoveItems', None, *moves)


def moveitems_response():
    return MV('MoveItems', None,
              MV('Response', None, MV('SrcMsgId', '5:3'), MV('Status', '3'), MV('DstMsgId', '17:1')),
              MV('Response', None, MV('SrcMsgId', '5:8'), MV('Status', '3'), MV('DstMsgId', '17:2')),
              MV('Response', None, MV('SrcMsgId', '5:21'), MV('Status', '1')))


def getitemestimate_request():
    cols = [GE('Collection', None, AS('SyncKey', key), GE('CollectionId', cid),
               AS('Options', None, AS('FilterType', '3')))
            for cid, key in (('5', '7'), ('9', '8'))]
    return GE('GetItemEstimate', None, GE('Collections', None, *cols))


def getitemestimate_response():
    return GE('GetItemEstimate', None,
              GE('Response', None, GE('Status', '1'),
                 GE('Collection', None, GE('CollectionId', '5'), GE('Estimate', '1204'))),
              GE('Response', None, GE('Status', '2'),
                 GE('Collection', None, GE('CollectionId', '99'))))


def folder_commands():
    return [
        ('foldercreate_request', FH('FolderCreate', None, FH('SyncKey', '3'), FH('ParentId', '2'),
                                    FH('DisplayName', 'Receipts 2026 & <old>'), FH('Type', '12'))),
        ('foldercreate_response', FH('FolderCreate', None, FH('Status', '1'), FH('SyncKey', '4'),
                                     FH('ServerId', '201'))),
        ('folderupdate_request', FH('FolderUpdate', None, FH('SyncKey', '4'), FH('ServerId', '201'),
                                    FH('ParentId', '0'), FH('DisplayName', 'Receipts'))),
        ('folderdelete_response', FH('FolderDelete', None, FH('Status', '4'))),
    ]


def meetingresponse_request():
    return MR('MeetingResponse', None, MR('Request', None, MR('UserResponse', '1'),
              MR('CollectionId', '5'), MR('RequestId', '5:42'),
              MR('InstanceId', '2026-12-08T09:00:00.000Z'),
              MR('SendResponse', None, AB('Body', None, AB('Type', '1'),
                                          AB('Data', 'See you there.')))))


def meetingresponse_response():
    return MR('MeetingResponse', None, MR('Result', None, MR('RequestId', '5:42'),
              MR('Status', '1'), MR('CalendarId', '9:17')))


def resolverecipients_request():
    return RR('ResolveRecipients', None, RR('To', 'bob.dupont@example.com'), RR('To', 'Chloé'),
              RR('Options', None, RR('CertificateRetrieval', '2'), RR('MaxCertificates', '3'),
                 RR('MaxAmbiguousRecipients', '5'),
                 RR('Availability', None, RR('StartTime', '2026-12-08T08:00:00.000Z'),
                    RR('EndTime', '2026-12-08T18:00:00.000Z')),
                 RR('Picture', None, RR('MaxSize', '4096'), RR('MaxPictures', '1'))))


def resolverecipients_response():
    rng = random.Random(41)
    cert = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(900))).decode()
    return RR('ResolveRecipients', None, RR('Status', '1'),
              RR('Response', None, RR('To', 'bob.dupont@example.com'), RR('Status', '1'),
                 RR('RecipientCount', '1'),
                 RR('Recipient', None, RR('Type', '1'), RR('DisplayName', 'Bob Dupont'),
                    RR('EmailAddress', 'bob.dupont@example.com'),
                    RR('Availability', None, RR('Status', '1'),
                       RR('MergedFreeBusy', '0000222200000000002200')),
                    RR('Certificates', None, RR('Status', '1'), RR('CertificateCount', '1'),
                       RR('RecipientCount', '1'), RR('Certificate', cert)),
                    RR('Picture', None, RR('Status', '1'),
                       RR('Data', opaque=bytes(rng.getrandbits(8) for _ in range(300)))))),
              RR('Response', None, RR('To', 'Chloé'), RR('Status', '2'), RR('RecipientCount', '2'),
                 RR('Recipient', None, RR('Type', '2'), RR('DisplayName', 'Chloé Lefèvre'),
                    RR('EmailAddress', 'chloe.lefevre@example.com')),
                 RR('Recipient', None, RR('Type', '1'), RR('DisplayName', 'Chloé Martin'),
                    RR('EmailAddress', 'chloe.martin@example.org'))))


def validatecert_request():
    rng = random.Random(43)
    certs = [base64.b64encode(bytes(rng.getrandbits(8) for _ in range(n))).decode() for n in (1200, 800)]
    return VC('ValidateCert', None, VC('CertificateChain', None, VC('Certificate', certs[1])),
              VC('Certificates', None, VC('Certificate', certs[0])))


def validatecert_response():
    return VC('ValidateCert', None, VC('Status', '1'), VC('Certificate', None, VC('Status', '1')))


def sync_request_client_changes():
    return AS('Sync', None, AS('Collections', None,
              AS('Collection', None, AS('SyncKey', '8'), AS('CollectionId', '10'),
                 AS('GetChanges', '0'),
                 AS('Commands', None,
                    AS('Add', None, AS('ClientId', '1701'), AS('ApplicationData', None,
                       CO('FirstName', 'Dana'), CO('LastName', 'Kowalski'),
                       CO('Email1Address', 'dana@example.net'))),
                    AS('Change', None, AS('ServerId', '10:1'), AS('ApplicationData', None,
                       CO('JobTitle', 'Senior Engineer'))),
                    AS('Delete', None, AS('ServerId', '10:7')))),
              AS('Collection', None, AS('SyncKey', '9'), AS('CollectionId', '5'),
                 AS('Commands', None,
                    AS('Change', None, AS('ServerId', '5:2'), AS('ApplicationData', None,
                       EM('Read', '1'),
                       EM('Flag', None, EM('FlagType', 'Follow up'),
                          TA('StartDate', '2026-12-01T00:00:00.000Z'),
                          TA('DueDate', '2026-12-02T00:00:00.000Z'))))))))


def sync_response_client_changes():
    return AS('Sync', None, AS('Collections', None,
              AS('Collection', None, AS('SyncKey', '9'), AS('CollectionId', '10'), AS('Status', '1'),
                 AS('Responses', None,
                    AS('Add', None, AS('ClientId', '1701'), AS('ServerId', '10:12'), AS('Status', '1')),
                    AS('Change', None, AS('ServerId', '10:1'), AS('Status', '1')))),
              AS('Collection', None, AS('SyncKey', '10'), AS('CollectionId', '5'), AS('Status', '1'),
                 AS('Responses', None,
                    AS('Change', None, AS('ServerId', '5:2'), AS('Status', '8')))),
              AS('Collection', None, AS('SyncKey', '0'), AS('CollectionId', '77'), AS('Status', '12'))))


DOCUMENTS = [
    # name, builder, expected bytes (protocol.md section 2.2 worked examples) or None
    ('foldersync_request', foldersync_request, '03 01 6A 00 00 07 56 52 03 30 00 01 01'),
    ('sync_request_initial', sync_request_initial,
     '03 01 6A 00 45 5C 4F 4B 03 30 00 01 52 03 35 00 01 01 01 01'),
    ('ping_request', ping_request,
     '03 01 6A 00 00 0D 45 48 03 34 38 30 00 01 49 4A 4B 03 35 00 01 4C 03 45 6D 61 69 6C 00 01 01 01 01'),
    ('ping_request_many', ping_request_many, None),
    ('ping_response', ping_response, None),
    ('ping_response_error', ping_response_error, None),
    ('sync_response_empty', sync_response_empty, None),
    ('provision_request', provision_request, None),
    ('provision_response', provision_response, None),
    ('provision_ack_request', provision_ack_request, None),
    ('provision_remote_wipe', provision_remote_wipe, None),
    ('foldersync_response_200', foldersync_response, None),
    ('sync_request_fetch_window', sync_request_fetch_window, None),
    ('sync_response_100', sync_response, None),
    ('sync_response_3', lambda: sync_response(3, 600, 13), None),
    ('sync_response_mixed', sync_response_mixed, None),
    ('itemoperations_fetch_request', itemoperations_fetch_request, None),
    ('itemoperations_response', itemoperations_response, None),
    ('search_request', search_request, None),
    ('search_response', search_response, None),
    ('search_gal_request', search_gal_request, None),
    ('search_gal_response', search_gal_response, None),
    ('settings_request', settings_request, None),
    ('settings_set_oof_request', settings_set_oof_request, None),
    ('settings_response', settings_response, None),
    ('moveitems_request', moveitems_request, None),
    ('moveitems_response', moveitems_response, None),
    ('getitemestimate_request', getitemestimate_request, None),
    ('getitemestimate_response', getitemestimate_response, None),
    ('meetingresponse_request', meetingresponse_request, None),
    ('meetingresponse_response', meetingresponse_response, None),
    ('resolverecipients_request', resolverecipients_request, None),
    ('resolverecipients_response', resolverecipients_response, None),
    ('validatecert_request', validatecert_request, None),
    ('validatecert_response', validatecert_response, None),
    ('sync_request_client_changes', sync_request_client_changes, None),
    ('sync_response_client_changes', sync_response_client_changes, None),
] + [(name, (lambda doc: lambda: doc)(doc), None) for name, doc in folder_commands()]

# Seeds for the decoder fuzz target: the encoded documents below this size
# (big ones make libFuzzer slow without adding coverage).
SEED_MAX = 64 * 1024
XML_SEED_MAX = 16 * 1024  # seeds of the XML bridge fuzz target (copies of the small documents)


# Hand-made decoder edge cases for the fuzz seeds (hex; "H" is the header 03 01 6A 00).
# Valid and invalid on purpose: the decoder must accept or reject each cleanly.
EDGE_SEEDS = {
    'edge_empty_input': '',
    'edge_header_only': 'H',
    'edge_truncated_header': '03 01',
    'edge_content_flag_then_end': 'H 00 07 56 52 01 01',        # <SyncKey> flagged, no content
    'edge_empty_str_i': 'H 00 07 56 52 03 00 01 01',
    'edge_two_str_i': 'H 00 07 56 52 03 61 00 03 62 00 01 01',    # text split in two STR_I
    'edge_str_i_unterminated': 'H 00 07 56 52 03 61 62 63',
    'edge_missing_end': 'H 00 07 56 52 03 30 00 01',
    'edge_extra_end': 'H 00 07 56 52 03 30 00 01 01 01',
    'edge_trailing_bytes': 'H 00 07 16 FF FF',
    'edge_opaque_raw': 'H 00 14 45 46 4B 4C C3 05 01 02 00 FF 41 01 01 01 01',
    'edge_opaque_empty': 'H 00 16 49 C3 00 01',
    'edge_opaque_mb_300': 'H 00 14 45 4C C3 82 2C ' + ' '.join(['5A'] * 300) + ' 01 01',
    'edge_opaque_len_past_end': 'H 00 14 45 4C C3 8F FF FF FF 7F 00 01 01',
    'edge_mb_overlong': 'H 00 14 45 4C C3 80 80 80 80 80 01 01 01',
    'edge_switch_page_25': 'H 00 19 45 01',
    'edge_switch_page_invalid': 'H 00 FF 45 01',
    'edge_switch_page_truncated': 'H 00',
    'edge_unknown_token': 'H 7F 01',
    'edge_attribute_bit': 'H 85 01 01',
    'edge_literal': 'H 04 00 01',
    'edge_entity': 'H 45 02 41 01',
    'edge_pi': 'H 43 01',
    'edge_str_t': 'H 45 83 00 01',
    'edge_public_id_other': '03 7F 6A 00 00 07 16',
    'edge_charset_latin1': '03 01 04 00 00 07 16',
    'edge_string_table': '03 01 6A 03 61 62 00 00 07 16',
    'edge_wbxml_1_2': '02 01 6A 00 00 07 16',
    'edge_invalid_utf8': 'H 00 07 56 52 03 C0 AF FF 00 01 01',
    'edge_text_at_top': 'H 03 61 00',
    'edge_two_roots': 'H 00 07 16 16',
    'edge_deep_70': 'H ' + ' '.join(['5D'] * 70) + ' ' + ' '.join(['01'] * 70),
    'edge_deep_64': 'H ' + ' '.join(['5D'] * 64) + ' ' + ' '.join(['01'] * 64),
    'edge_mixed_content': 'H 45 03 61 00 4B 03 31 00 01 03 62 00 01',
    'edge_text_after_child': 'H 00 0D 45 48 03 39 30 30 00 01 03 72 73 3E 0A 00 01',
}


def edge_seed_bytes(spec):
    return bytes.fromhex(spec.replace('H', '03 01 6A 00'))


def libwbxml_roundtrip(xml_text, tmp):
    src = os.path.join(tmp, 'in.xml')
    wb = os.path.join(tmp, 'out.wbxml')
    back = os.path.join(tmp, 'back.xml')
    with open(src, 'w', encoding='utf-8') as f:
        f.write(xml_text)
    for cmd in (['xml2wbxml', '-a', '-n', '-o', wb, src],
                ['wbxml2xml', '-l', 'ACTIVESYNC', '-i', '2', '-o', back, wb]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit('%s failed: %s' % (' '.join(cmd), r.stdout + r.stderr))
    with open(wb, 'rb') as f:
        wbxml = f.read()
    with open(back, encoding='utf-8') as f:
        return wbxml, f.read()


def main():
    check = '--check' in sys.argv[1:]
    tags = load_tags()
    outputs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, build, expected in DOCUMENTS:
            root = build()
            validate(name, root, tags)
            xml = render(root)
            wbxml, back = libwbxml_roundtrip(xml, tmp)
            if back != xml:
                sys.exit('%s: libwbxml2 does not give the document back unchanged' % name)
            if expected and wbxml != bytes.fromhex(expected):
                sys.exit('%s: encodes to %s, protocol.md says %s' % (name, wbxml.hex(' '), expected))
            outputs[os.path.join(HERE, name + '.xml')] = xml.encode('utf-8')
            if len(wbxml) <= SEED_MAX:
                outputs[os.path.join(SEED_DIR, name + '.wbxml')] = wbxml
            if len(xml) <= XML_SEED_MAX:
                outputs[os.path.join(XML_SEED_DIR, name + '.xml')] = xml.encode('utf-8')
    for name, spec in EDGE_SEEDS.items():
        outputs[os.path.join(SEED_DIR, name + '.wbxml')] = edge_seed_bytes(spec)
    bad = []
    for path, data in sorted(outputs.items()):
        if check:
            if not os.path.exists(path) or open(path, 'rb').read() != data:
                bad.append(path)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(data)
    if bad:
        sys.exit('out of date: ' + ', '.join(bad))
    print('%s %d files' % ('checked' if check else 'wrote', len(outputs)))


if __name__ == '__main__':
    main()

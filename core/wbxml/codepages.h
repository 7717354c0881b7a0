// MS-ASWBXML code pages 0..25 (protocol 16.1): page and tag names as the
// spec writes them, libwbxml2's alias names (for XML interop with its tools),
// and a Tag constant for every token, for command handlers:
//   eas::wbxml::tags::AirSync::Sync, eas::wbxml::tags::FolderHierarchy::SyncKey
//
// Sources (facts only): OfficeDev/Interop-TestSuites MS-ASWBXML.cs for the spec
// names; tokens older protocols used (2.5 / 12.x, marked obsolete) and the
// alias names were read from libwbxml2 0.11.8 (`wbxml2xml -l ACTIVESYNC`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace eas::wbxml {

// One element name: code page (0..25) and token (0x05..0x3F, without the
// content/attribute bits).
struct Tag {
  std::uint8_t page = 0;
  std::uint8_t token = 0;
  friend constexpr bool operator==(Tag a, Tag b) { return a.page == b.page && a.token == b.token; }
  friend constexpr bool operator!=(Tag a, Tag b) { return !(a == b); }
};

inline constexpr std::uint8_t kNumCodePages = 26;
inline constexpr std::uint8_t kFirstTagToken = 0x05;
inline constexpr std::uint8_t kLastTagToken = 0x3F;

// Flags of a table entry.
enum TagFlags : std::uint8_t {
  kObsolete = 1,       // only in protocols before 14.0 (2.5-era body/attachment tokens, AirNotify)
  kBinary = 2,         // libwbxml2 renders this tag's content as base64 in XML (OPAQUE)
  kNotInLibwbxml = 4,  // libwbxml2 0.11.8 does not know the token
};

struct TagInfo {
  std::uint8_t page;
  std::uint8_t token;
  std::string_view name;      // spec name
  std::string_view libwbxml;  // libwbxml2's name when it differs, else empty
  std::uint8_t flags;
  constexpr Tag tag() const { return Tag{page, token}; }
};

// Every known tag, ordered by (page, token).
std::span<const TagInfo> allTags();

// Code page <-> namespace name as the spec writes it ("AirSync", "GAL", "Find").
// Empty for page >= kNumCodePages.
std::string_view pageName(std::uint8_t page);
// libwbxml2 spells page 16 "Gal"; every other page as the spec.
std::string_view libwbxmlPageName(std::uint8_t page);
// Accepts the spec name and libwbxml2's ("Gal"), with or without the
// trailing ':' of the XML namespace ("AirSync:").
std::optional<std::uint8_t> pageByName(std::string_view name);

// (page, token) -> entry, or nullptr for an unknown token. O(1).
const TagInfo* tagInfo(Tag t);
inline bool isKnownTag(Tag t) { return tagInfo(t) != nullptr; }
// Spec name, or empty if unknown.
std::string_view tagName(Tag t);
inline std::string_view tagName(std::uint8_t page, std::uint8_t token) {
  return tagName(Tag{page, token});
}
// libwbxml2's name (its alias where it has one, else the spec name).
std::string_view libwbxmlTagName(Tag t);
// (page, name) -> tag. Accepts the spec name and libwbxml2's alias.
std::optional<Tag> tagByName(std::uint8_t page, std::string_view name);
// "AirSync:Sync" for logs; "0x19:0x3f" style for unknown tags.
std::string qualifiedName(Tag t);

// Tag constants, one namespace per code page. Every spec name is a valid C++
// identifier, so constant names are exactly the tag names. A constant named
// like its page (tags::Ping::Ping) is legal C++.
namespace tags {
namespace AirSync {
inline constexpr Tag Sync{0, 0x05};
inline constexpr Tag Responses{0, 0x06};
inline constexpr Tag Add{0, 0x07};
inline constexpr Tag Change{0, 0x08};
inline constexpr Tag Delete{0, 0x09};
inline constexpr Tag Fetch{0, 0x0A};
inline constexpr Tag SyncKey{0, 0x0B};
inline constexpr Tag ClientId{0, 0x0C};
inline constexpr Tag ServerId{0, 0x0D};
inline constexpr Tag Status{0, 0x0E};
inline constexpr Tag Collection{0, 0x0F};
inline constexpr Tag Class{0, 0x10};
inline constexpr Tag Version{0, 0x11};  // obsolete
inline constexpr Tag CollectionId{0, 0x12};
inline constexpr Tag GetChanges{0, 0x13};
inline constexpr Tag MoreAvailable{0, 0x14};
inline constexpr Tag WindowSize{0, 0x15};
inline constexpr Tag Commands{0, 0x16};
inline constexpr Tag Options{0, 0x17};
inline constexpr Tag FilterType{0, 0x18};
inline constexpr Tag Truncation{0, 0x19};     // obsolete
inline constexpr Tag RTFTruncation{0, 0x1A};  // obsolete
inline constexpr Tag Conflict{0, 0x1B};
inline constexpr Tag Collections{0, 0x1C};
inline constexpr Tag ApplicationData{0, 0x1D};
inline constexpr Tag DeletesAsMoves{0, 0x1E};
inline constexpr Tag NotifyGUID{0, 0x1F};  // obsolete
inline constexpr Tag Supported{0, 0x20};
inline constexpr Tag SoftDelete{0, 0x21};
inline constexpr Tag MIMESupport{0, 0x22};
inline constexpr Tag MIMETruncation{0, 0x23};
inline constexpr Tag Wait{0, 0x24};
inline constexpr Tag Limit{0, 0x25};
inline constexpr Tag Partial{0, 0x26};
inline constexpr Tag ConversationMode{0, 0x27};
inline constexpr Tag MaxItems{0, 0x28};
inline constexpr Tag HeartbeatInterval{0, 0x29};
}  // namespace AirSync
namespace Contacts {
inline constexpr Tag Anniversary{1, 0x05};
inline constexpr Tag AssistantName{1, 0x06};
inline constexpr Tag AssistantPhoneNumber{1, 0x07};
inline constexpr Tag Birthday{1, 0x08};
inline constexpr Tag Body{1, 0x09};           // obsolete
inline constexpr Tag BodySize{1, 0x0A};       // obsolete
inline constexpr Tag BodyTruncated{1, 0x0B};  // obsolete
inline constexpr Tag Business2PhoneNumber{1, 0x0C};
inline constexpr Tag BusinessAddressCity{1, 0x0D};
inline constexpr Tag BusinessAddressCountry{1, 0x0E};
inline constexpr Tag BusinessAddressPostalCode{1, 0x0F};
inline constexpr Tag BusinessAddressState{1, 0x10};
inline constexpr Tag BusinessAddressStreet{1, 0x11};
inline constexpr Tag BusinessFaxNumber{1, 0x12};
inline constexpr Tag BusinessPhoneNumber{1, 0x13};
inline constexpr Tag CarPhoneNumber{1, 0x14};
inline constexpr Tag Categories{1, 0x15};
inline constexpr Tag Category{1, 0x16};
inline constexpr Tag Children{1, 0x17};
inline constexpr Tag Child{1, 0x18};
inline constexpr Tag CompanyName{1, 0x19};
inline constexpr Tag Department{1, 0x1A};
inline constexpr Tag Email1Address{1, 0x1B};
inline constexpr Tag Email2Address{1, 0x1C};
inline constexpr Tag Email3Address{1, 0x1D};
inline constexpr Tag FileAs{1, 0x1E};
inline constexpr Tag FirstName{1, 0x1F};
inline constexpr Tag Home2PhoneNumber{1, 0x20};
inline constexpr Tag HomeAddressCity{1, 0x21};
inline constexpr Tag HomeAddressCountry{1, 0x22};
inline constexpr Tag HomeAddressPostalCode{1, 0x23};
inline constexpr Tag HomeAddressState{1, 0x24};
inline constexpr Tag HomeAddressStreet{1, 0x25};
inline constexpr Tag HomeFaxNumber{1, 0x26};
inline constexpr Tag HomePhoneNumber{1, 0x27};
inline constexpr Tag JobTitle{1, 0x28};
inline constexpr Tag LastName{1, 0x29};
inline constexpr Tag MiddleName{1, 0x2A};
inline constexpr Tag MobilePhoneNumber{1, 0x2B};
inline constexpr Tag OfficeLocation{1, 0x2C};
inline constexpr Tag OtherAddressCity{1, 0x2D};
inline constexpr Tag OtherAddressCountry{1, 0x2E};
inline constexpr Tag OtherAddressPostalCode{1, 0x2F};
inline constexpr Tag OtherAddressState{1, 0x30};
inline constexpr Tag OtherAddressStreet{1, 0x31};
inline constexpr Tag PagerNumber{1, 0x32};
inline constexpr Tag RadioPhoneNumber{1, 0x33};
inline constexpr Tag Spouse{1, 0x34};
inline constexpr Tag Suffix{1, 0x35};
inline constexpr Tag Title{1, 0x36};
inline constexpr Tag WebPage{1, 0x37};
inline constexpr Tag YomiCompanyName{1, 0x38};
inline constexpr Tag YomiFirstName{1, 0x39};
inline constexpr Tag YomiLastName{1, 0x3A};
inline constexpr Tag CompressedRTF{1, 0x3B};  // obsolete
inline constexpr Tag Picture{1, 0x3C};
inline constexpr Tag Alias{1, 0x3D};
inline constexpr Tag WeightedRank{1, 0x3E};
}  // namespace Contacts
namespace Email {
inline constexpr Tag Attachment{2, 0x05};     // obsolete
inline constexpr Tag Attachments{2, 0x06};    // obsolete
inline constexpr Tag AttName{2, 0x07};        // obsolete
inline constexpr Tag AttSize{2, 0x08};        // obsolete
inline constexpr Tag AttOid{2, 0x09};         // obsolete
inline constexpr Tag AttMethod{2, 0x0A};      // obsolete
inline constexpr Tag AttRemoved{2, 0x0B};     // obsolete
inline constexpr Tag Body{2, 0x0C};           // obsolete
inline constexpr Tag BodySize{2, 0x0D};       // obsolete
inline constexpr Tag BodyTruncated{2, 0x0E};  // obsolete
inline constexpr Tag DateReceived{2, 0x0F};
inline constexpr Tag DisplayName{2, 0x10};  // obsolete
inline constexpr Tag DisplayTo{2, 0x11};
inline constexpr Tag Importance{2, 0x12};
inline constexpr Tag MessageClass{2, 0x13};
inline constexpr Tag Subject{2, 0x14};
inline constexpr Tag Read{2, 0x15};
inline constexpr Tag To{2, 0x16};
inline constexpr Tag Cc{2, 0x17};
inline constexpr Tag From{2, 0x18};
inline constexpr Tag ReplyTo{2, 0x19};
inline constexpr Tag AllDayEvent{2, 0x1A};
inline constexpr Tag Categories{2, 0x1B};
inline constexpr Tag Category{2, 0x1C};
inline constexpr Tag DtStamp{2, 0x1D};
inline constexpr Tag EndTime{2, 0x1E};
inline constexpr Tag InstanceType{2, 0x1F};
inline constexpr Tag BusyStatus{2, 0x20};
inline constexpr Tag Location{2, 0x21};
inline constexpr Tag MeetingRequest{2, 0x22};
inline constexpr Tag Organizer{2, 0x23};
inline constexpr Tag RecurrenceId{2, 0x24};
inline constexpr Tag Reminder{2, 0x25};
inline constexpr Tag ResponseRequested{2, 0x26};
inline constexpr Tag Recurrences{2, 0x27};
inline constexpr Tag Recurrence{2, 0x28};
inline constexpr Tag Type{2, 0x29};
inline constexpr Tag Until{2, 0x2A};
inline constexpr Tag Occurrences{2, 0x2B};
inline constexpr Tag Interval{2, 0x2C};
inline constexpr Tag DayOfWeek{2, 0x2D};
inline constexpr Tag DayOfMonth{2, 0x2E};
inline constexpr Tag WeekOfMonth{2, 0x2F};
inline constexpr Tag MonthOfYear{2, 0x30};
inline constexpr Tag StartTime{2, 0x31};
inline constexpr Tag Sensitivity{2, 0x32};
inline constexpr Tag TimeZone{2, 0x33};
inline constexpr Tag GlobalObjId{2, 0x34};
inline constexpr Tag ThreadTopic{2, 0x35};
inline constexpr Tag MIMEData{2, 0x36};       // obsolete
inline constexpr Tag MIMETruncated{2, 0x37};  // obsolete
inline constexpr Tag MIMESize{2, 0x38};       // obsolete
inline constexpr Tag InternetCPID{2, 0x39};
inline constexpr Tag Flag{2, 0x3A};
inline constexpr Tag Status{2, 0x3B};
inline constexpr Tag ContentClass{2, 0x3C};
inline constexpr Tag FlagType{2, 0x3D};
inline constexpr Tag CompleteTime{2, 0x3E};
inline constexpr Tag DisallowNewTimeProposal{2, 0x3F};
}  // namespace Email
namespace AirNotify {
inline constexpr Tag Notify{3, 0x05};                // obsolete
inline constexpr Tag Notification{3, 0x06};          // obsolete
inline constexpr Tag Version{3, 0x07};               // obsolete
inline constexpr Tag LifeTime{3, 0x08};              // obsolete
inline constexpr Tag DeviceInfo{3, 0x09};            // obsolete
inline constexpr Tag Enable{3, 0x0A};                // obsolete
inline constexpr Tag Folder{3, 0x0B};                // obsolete
inline constexpr Tag ServerId{3, 0x0C};              // obsolete
inline constexpr Tag DeviceAddress{3, 0x0D};         // obsolete
inline constexpr Tag ValidCarrierProfiles{3, 0x0E};  // obsolete
inline constexpr Tag CarrierProfile{3, 0x0F};        // obsolete
inline constexpr Tag Status{3, 0x10};                // obsolete
inline constexpr Tag Responses{3, 0x11};             // obsolete
inline constexpr Tag Devices{3, 0x12};               // obsolete
inline constexpr Tag Device{3, 0x13};                // obsolete
inline constexpr Tag Id{3, 0x14};                    // obsolete
inline constexpr Tag Expiry{3, 0x15};                // obsolete
inline constexpr Tag NotifyGUID{3, 0x16};            // obsolete
inline constexpr Tag DeviceFriendlyName{3, 0x17};    // obsolete
}  // namespace AirNotify
namespace Calendar {
inline constexpr Tag Timezone{4, 0x05};
inline constexpr Tag AllDayEvent{4, 0x06};
inline constexpr Tag Attendees{4, 0x07};
inline constexpr Tag Attendee{4, 0x08};
inline constexpr Tag Email{4, 0x09};
inline constexpr Tag Name{4, 0x0A};
inline constexpr Tag Body{4, 0x0B};           // obsolete
inline constexpr Tag BodyTruncated{4, 0x0C};  // obsolete
inline constexpr Tag BusyStatus{4, 0x0D};
inline constexpr Tag Categories{4, 0x0E};
inline constexpr Tag Category{4, 0x0F};
inline constexpr Tag Compressed_RTF{4, 0x10};  // obsolete
inline constexpr Tag DtStamp{4, 0x11};
inline constexpr Tag EndTime{4, 0x12};
inline constexpr Tag Exception{4, 0x13};
inline constexpr Tag Exceptions{4, 0x14};
inline constexpr Tag Deleted{4, 0x15};
inline constexpr Tag ExceptionStartTime{4, 0x16};
inline constexpr Tag Location{4, 0x17};
inline constexpr Tag MeetingStatus{4, 0x18};
inline constexpr Tag OrganizerEmail{4, 0x19};
inline constexpr Tag OrganizerName{4, 0x1A};
inline constexpr Tag Recurrence{4, 0x1B};
inline constexpr Tag Type{4, 0x1C};
inline constexpr Tag Until{4, 0x1D};
inline constexpr Tag Occurrences{4, 0x1E};
inline constexpr Tag Interval{4, 0x1F};
inline constexpr Tag DayOfWeek{4, 0x20};
inline constexpr Tag DayOfMonth{4, 0x21};
inline constexpr Tag WeekOfMonth{4, 0x22};
inline constexpr Tag MonthOfYear{4, 0x23};
inline constexpr Tag Reminder{4, 0x24};
inline constexpr Tag Sensitivity{4, 0x25};
inline constexpr Tag Subject{4, 0x26};
inline constexpr Tag StartTime{4, 0x27};
inline constexpr Tag UID{4, 0x28};
inline constexpr Tag AttendeeStatus{4, 0x29};
inline constexpr Tag AttendeeType{4, 0x2A};
inline constexpr Tag DisallowNewTimeProposal{4, 0x33};
inline constexpr Tag ResponseRequested{4, 0x34};
inline constexpr Tag AppointmentReplyTime{4, 0x35};
inline constexpr Tag ResponseType{4, 0x36};
inline constexpr Tag CalendarType{4, 0x37};
inline constexpr Tag IsLeapMonth{4, 0x38};
inline constexpr Tag FirstDayOfWeek{4, 0x39};
inline constexpr Tag OnlineMeetingConfLink{4, 0x3A};
inline constexpr Tag OnlineMeetingExternalLink{4, 0x3B};
inline constexpr Tag ClientUid{4, 0x3C};
}  // namespace Calendar
namespace Move {
inline constexpr Tag MoveItems{5, 0x05};
inline constexpr Tag Move{5, 0x06};
inline constexpr Tag SrcMsgId{5, 0x07};
inline constexpr Tag SrcFldId{5, 0x08};
inline constexpr Tag DstFldId{5, 0x09};
inline constexpr Tag Response{5, 0x0A};
inline constexpr Tag Status{5, 0x0B};
inline constexpr Tag DstMsgId{5, 0x0C};
}  // namespace Move
namespace GetItemEstimate {
inline constexpr Tag GetItemEstimate{6, 0x05};
inline constexpr Tag Version{6, 0x06};  // obsolete
inline constexpr Tag Collections{6, 0x07};
inline constexpr Tag Collection{6, 0x08};
inline constexpr Tag Class{6, 0x09};
inline constexpr Tag CollectionId{6, 0x0A};
inline constexpr Tag DateTime{6, 0x0B};  // obsolete
inline constexpr Tag Estimate{6, 0x0C};
inline constexpr Tag Response{6, 0x0D};
inline constexpr Tag Status{6, 0x0E};
}  // namespace GetItemEstimate
namespace FolderHierarchy {
inline constexpr Tag Folders{7, 0x05};
inline constexpr Tag Folder{7, 0x06};
inline constexpr Tag DisplayName{7, 0x07};
inline constexpr Tag ServerId{7, 0x08};
inline constexpr Tag ParentId{7, 0x09};
inline constexpr Tag Type{7, 0x0A};
inline constexpr Tag Response{7, 0x0B};  // obsolete
inline constexpr Tag Status{7, 0x0C};
inline constexpr Tag ContentClass{7, 0x0D};  // obsolete
inline constexpr Tag Changes{7, 0x0E};
inline constexpr Tag Add{7, 0x0F};
inline constexpr Tag Delete{7, 0x10};
inline constexpr Tag Update{7, 0x11};
inline constexpr Tag SyncKey{7, 0x12};
inline constexpr Tag FolderCreate{7, 0x13};
inline constexpr Tag FolderDelete{7, 0x14};
inline constexpr Tag FolderUpdate{7, 0x15};
inline constexpr Tag FolderSync{7, 0x16};
inline constexpr Tag Count{7, 0x17};
inline constexpr Tag Version{7, 0x18};  // obsolete
}  // namespace FolderHierarchy
namespace MeetingResponse {
inline constexpr Tag CalendarId{8, 0x05};
inline constexpr Tag CollectionId{8, 0x06};
inline constexpr Tag MeetingResponse{8, 0x07};
inline constexpr Tag RequestId{8, 0x08};
inline constexpr Tag Request{8, 0x09};
inline constexpr Tag Result{8, 0x0A};
inline constexpr Tag Status{8, 0x0B};
inline constexpr Tag UserResponse{8, 0x0C};
inline constexpr Tag Version{8, 0x0D};  // obsolete
inline constexpr Tag InstanceId{8, 0x0E};
inline constexpr Tag SendResponse{8, 0x12};
}  // namespace MeetingResponse
namespace Tasks {
inline constexpr Tag Body{9, 0x05};           // obsolete
inline constexpr Tag BodySize{9, 0x06};       // obsolete
inline constexpr Tag BodyTruncated{9, 0x07};  // obsolete
inline constexpr Tag Categories{9, 0x08};
inline constexpr Tag Category{9, 0x09};
inline constexpr Tag Complete{9, 0x0A};
inline constexpr Tag DateCompleted{9, 0x0B};
inline constexpr Tag DueDate{9, 0x0C};
inline constexpr Tag UtcDueDate{9, 0x0D};
inline constexpr Tag Importance{9, 0x0E};
inline constexpr Tag Recurrence{9, 0x0F};
inline constexpr Tag Type{9, 0x10};
inline constexpr Tag Start{9, 0x11};
inline constexpr Tag Until{9, 0x12};
inline constexpr Tag Occurrences{9, 0x13};
inline constexpr Tag Interval{9, 0x14};
inline constexpr Tag DayOfMonth{9, 0x15};
inline constexpr Tag DayOfWeek{9, 0x16};
inline constexpr Tag WeekOfMonth{9, 0x17};
inline constexpr Tag MonthOfYear{9, 0x18};
inline constexpr Tag Regenerate{9, 0x19};
inline constexpr Tag DeadOccur{9, 0x1A};
inline constexpr Tag ReminderSet{9, 0x1B};
inline constexpr Tag ReminderTime{9, 0x1C};
inline constexpr Tag Sensitivity{9, 0x1D};
inline constexpr Tag StartDate{9, 0x1E};
inline constexpr Tag UtcStartDate{9, 0x1F};
inline constexpr Tag Subject{9, 0x20};
inline constexpr Tag CompressedRTF{9, 0x21};  // obsolete
inline constexpr Tag OrdinalDate{9, 0x22};
inline constexpr Tag SubOrdinalDate{9, 0x23};
inline constexpr Tag CalendarType{9, 0x24};
inline constexpr Tag IsLeapMonth{9, 0x25};
inline constexpr Tag FirstDayOfWeek{9, 0x26};
}  // namespace Tasks
namespace ResolveRecipients {
inline constexpr Tag ResolveRecipients{10, 0x05};
inline constexpr Tag Response{10, 0x06};
inline constexpr Tag Status{10, 0x07};
inline constexpr Tag Type{10, 0x08};
inline constexpr Tag Recipient{10, 0x09};
inline constexpr Tag DisplayName{10, 0x0A};
inline constexpr Tag EmailAddress{10, 0x0B};
inline constexpr Tag Certificates{10, 0x0C};
inline constexpr Tag Certificate{10, 0x0D};
inline constexpr Tag MiniCertificate{10, 0x0E};
inline constexpr Tag Options{10, 0x0F};
inline constexpr Tag To{10, 0x10};
inline constexpr Tag CertificateRetrieval{10, 0x11};
inline constexpr Tag RecipientCount{10, 0x12};
inline constexpr Tag MaxCertificates{10, 0x13};
inline constexpr Tag MaxAmbiguousRecipients{10, 0x14};
inline constexpr Tag CertificateCount{10, 0x15};
inline constexpr Tag Availability{10, 0x16};
inline constexpr Tag StartTime{10, 0x17};
inline constexpr Tag EndTime{10, 0x18};
inline constexpr Tag MergedFreeBusy{10, 0x19};
inline constexpr Tag Picture{10, 0x1A};
inline constexpr Tag MaxSize{10, 0x1B};
inline constexpr Tag Data{10, 0x1C};
inline constexpr Tag MaxPictures{10, 0x1D};
}  // namespace ResolveRecipients
namespace ValidateCert {
inline constexpr Tag ValidateCert{11, 0x05};
inline constexpr Tag Certificates{11, 0x06};
inline constexpr Tag Certificate{11, 0x07};
inline constexpr Tag CertificateChain{11, 0x08};
inline constexpr Tag CheckCrl{11, 0x09};
inline constexpr Tag Status{11, 0x0A};
}  // namespace ValidateCert
namespace Contacts2 {
inline constexpr Tag CustomerId{12, 0x05};
inline constexpr Tag GovernmentId{12, 0x06};
inline constexpr Tag IMAddress{12, 0x07};
inline constexpr Tag IMAddress2{12, 0x08};
inline constexpr Tag IMAddress3{12, 0x09};
inline constexpr Tag ManagerName{12, 0x0A};
inline constexpr Tag CompanyMainPhone{12, 0x0B};
inline constexpr Tag AccountName{12, 0x0C};
inline constexpr Tag NickName{12, 0x0D};
inline constexpr Tag MMS{12, 0x0E};
}  // namespace Contacts2
namespace Ping {
inline constexpr Tag Ping{13, 0x05};
inline constexpr Tag AutdState{13, 0x06};  // obsolete
inline constexpr Tag Status{13, 0x07};
inline constexpr Tag HeartbeatInterval{13, 0x08};
inline constexpr Tag Folders{13, 0x09};
inline constexpr Tag Folder{13, 0x0A};
inline constexpr Tag Id{13, 0x0B};
inline constexpr Tag Class{13, 0x0C};
inline constexpr Tag MaxFolders{13, 0x0D};
}  // namespace Ping
namespace Provision {
inline constexpr Tag Provision{14, 0x05};
inline constexpr Tag Policies{14, 0x06};
inline constexpr Tag Policy{14, 0x07};
inline constexpr Tag PolicyType{14, 0x08};
inline constexpr Tag PolicyKey{14, 0x09};
inline constexpr Tag Data{14, 0x0A};
inline constexpr Tag Status{14, 0x0B};
inline constexpr Tag RemoteWipe{14, 0x0C};
inline constexpr Tag EASProvisionDoc{14, 0x0D};
inline constexpr Tag DevicePasswordEnabled{14, 0x0E};
inline constexpr Tag AlphanumericDevicePasswordRequired{14, 0x0F};
inline constexpr Tag RequireStorageCardEncryption{14, 0x10};
inline constexpr Tag PasswordRecoveryEnabled{14, 0x11};
inline constexpr Tag DocumentBrowseEnabled{14, 0x12};  // obsolete
inline constexpr Tag AttachmentsEnabled{14, 0x13};
inline constexpr Tag MinDevicePasswordLength{14, 0x14};
inline constexpr Tag MaxInactivityTimeDeviceLock{14, 0x15};
inline constexpr Tag MaxDevicePasswordFailedAttempts{14, 0x16};
inline constexpr Tag MaxAttachmentSize{14, 0x17};
inline constexpr Tag AllowSimpleDevicePassword{14, 0x18};
inline constexpr Tag DevicePasswordExpiration{14, 0x19};
inline constexpr Tag DevicePasswordHistory{14, 0x1A};
inline constexpr Tag AllowStorageCard{14, 0x1B};
inline constexpr Tag AllowCamera{14, 0x1C};
inline constexpr Tag RequireDeviceEncryption{14, 0x1D};
inline constexpr Tag AllowUnsignedApplications{14, 0x1E};
inline constexpr Tag AllowUnsignedInstallationPackages{14, 0x1F};
inline constexpr Tag MinDevicePasswordComplexCharacters{14, 0x20};
inline constexpr Tag AllowWiFi{14, 0x21};
inline constexpr Tag AllowTextMessaging{14, 0x22};
inline constexpr Tag AllowPOPIMAPEmail{14, 0x23};
inline constexpr Tag AllowBluetooth{14, 0x24};
inline constexpr Tag AllowIrDA{14, 0x25};
inline constexpr Tag RequireManualSyncWhenRoaming{14, 0x26};
inline constexpr Tag AllowDesktopSync{14, 0x27};
inline constexpr Tag MaxCalendarAgeFilter{14, 0x28};
inline constexpr Tag AllowHTMLEmail{14, 0x29};
inline constexpr Tag MaxEmailAgeFilter{14, 0x2A};
inline constexpr Tag MaxEmailBodyTruncationSize{14, 0x2B};
inline constexpr Tag MaxEmailHTMLBodyTruncationSize{14, 0x2C};
inline constexpr Tag RequireSignedSMIMEMessages{14, 0x2D};
inline constexpr Tag RequireEncryptedSMIMEMessages{14, 0x2E};
inline constexpr Tag RequireSignedSMIMEAlgorithm{14, 0x2F};
inline constexpr Tag RequireEncryptionSMIMEAlgorithm{14, 0x30};
inline constexpr Tag AllowSMIMEEncryptionAlgorithmNegotiation{14, 0x31};
inline constexpr Tag AllowSMIMESoftCerts{14, 0x32};
inline constexpr Tag AllowBrowser{14, 0x33};
inline constexpr Tag AllowConsumerEmail{14, 0x34};
inline constexpr Tag AllowRemoteDesktop{14, 0x35};
inline constexpr Tag AllowInternetSharing{14, 0x36};
inline constexpr Tag UnapprovedInROMApplicationList{14, 0x37};
inline constexpr Tag ApplicationName{14, 0x38};
inline constexpr Tag ApprovedApplicationList{14, 0x39};
inline constexpr Tag Hash{14, 0x3A};
inline constexpr Tag AccountOnlyRemoteWipe{14, 0x3B};
}  // namespace Provision
namespace Search {
inline constexpr Tag Search{15, 0x05};
inline constexpr Tag Store{15, 0x07};
inline constexpr Tag Name{15, 0x08};
inline constexpr Tag Query{15, 0x09};
inline constexpr Tag Options{15, 0x0A};
inline constexpr Tag Range{15, 0x0B};
inline constexpr Tag Status{15, 0x0C};
inline constexpr Tag Response{15, 0x0D};
inline constexpr Tag Result{15, 0x0E};
inline constexpr Tag Properties{15, 0x0F};
inline constexpr Tag Total{15, 0x10};
inline constexpr Tag EqualTo{15, 0x11};
inline constexpr Tag Value{15, 0x12};
inline constexpr Tag And{15, 0x13};
inline constexpr Tag Or{15, 0x14};
inline constexpr Tag FreeText{15, 0x15};
inline constexpr Tag DeepTraversal{15, 0x17};
inline constexpr Tag LongId{15, 0x18};
inline constexpr Tag RebuildResults{15, 0x19};
inline constexpr Tag LessThan{15, 0x1A};
inline constexpr Tag GreaterThan{15, 0x1B};
inline constexpr Tag Schema{15, 0x1C};     // obsolete
inline constexpr Tag Supported{15, 0x1D};  // obsolete
inline constexpr Tag UserName{15, 0x1E};
inline constexpr Tag Password{15, 0x1F};
inline constexpr Tag ConversationId{15, 0x20};
inline constexpr Tag Picture{15, 0x21};
inline constexpr Tag MaxSize{15, 0x22};
inline constexpr Tag MaxPictures{15, 0x23};
}  // namespace Search
namespace GAL {
inline constexpr Tag DisplayName{16, 0x05};
inline constexpr Tag Phone{16, 0x06};
inline constexpr Tag Office{16, 0x07};
inline constexpr Tag Title{16, 0x08};
inline constexpr Tag Company{16, 0x09};
inline constexpr Tag Alias{16, 0x0A};
inline constexpr Tag FirstName{16, 0x0B};
inline constexpr Tag LastName{16, 0x0C};
inline constexpr Tag HomePhone{16, 0x0D};
inline constexpr Tag MobilePhone{16, 0x0E};
inline constexpr Tag EmailAddress{16, 0x0F};
inline constexpr Tag Picture{16, 0x10};
inline constexpr Tag Status{16, 0x11};
inline constexpr Tag Data{16, 0x12};
}  // namespace GAL
namespace AirSyncBase {
inline constexpr Tag BodyPreference{17, 0x05};
inline constexpr Tag Type{17, 0x06};
inline constexpr Tag TruncationSize{17, 0x07};
inline constexpr Tag AllOrNone{17, 0x08};
inline constexpr Tag Body{17, 0x0A};
inline constexpr Tag Data{17, 0x0B};
inline constexpr Tag EstimatedDataSize{17, 0x0C};
inline constexpr Tag Truncated{17, 0x0D};
inline constexpr Tag Attachments{17, 0x0E};
inline constexpr Tag Attachment{17, 0x0F};
inline constexpr Tag DisplayName{17, 0x10};
inline constexpr Tag FileReference{17, 0x11};
inline constexpr Tag Method{17, 0x12};
inline constexpr Tag ContentId{17, 0x13};
inline constexpr Tag ContentLocation{17, 0x14};
inline constexpr Tag IsInline{17, 0x15};
inline constexpr Tag NativeBodyType{17, 0x16};
inline constexpr Tag ContentType{17, 0x17};
inline constexpr Tag Preview{17, 0x18};
inline constexpr Tag BodyPartPreference{17, 0x19};
inline constexpr Tag BodyPart{17, 0x1A};
inline constexpr Tag Status{17, 0x1B};
inline constexpr Tag Add{17, 0x1C};
inline constexpr Tag Delete{17, 0x1D};
inline constexpr Tag ClientId{17, 0x1E};
inline constexpr Tag Content{17, 0x1F};
inline constexpr Tag Location{17, 0x20};
inline constexpr Tag Annotation{17, 0x21};
inline constexpr Tag Street{17, 0x22};
inline constexpr Tag City{17, 0x23};
inline constexpr Tag State{17, 0x24};
inline constexpr Tag Country{17, 0x25};
inline constexpr Tag PostalCode{17, 0x26};
inline constexpr Tag Latitude{17, 0x27};
inline constexpr Tag Longitude{17, 0x28};
inline constexpr Tag Accuracy{17, 0x29};
inline constexpr Tag Altitude{17, 0x2A};
inline constexpr Tag AltitudeAccuracy{17, 0x2B};
inline constexpr Tag LocationUri{17, 0x2C};
inline constexpr Tag InstanceId{17, 0x2D};
}  // namespace AirSyncBase
namespace Settings {
inline constexpr Tag Settings{18, 0x05};
inline constexpr Tag Status{18, 0x06};
inline constexpr Tag Get{18, 0x07};
inline constexpr Tag Set{18, 0x08};
inline constexpr Tag Oof{18, 0x09};
inline constexpr Tag OofState{18, 0x0A};
inline constexpr Tag StartTime{18, 0x0B};
inline constexpr Tag EndTime{18, 0x0C};
inline constexpr Tag OofMessage{18, 0x0D};
inline constexpr Tag AppliesToInternal{18, 0x0E};
inline constexpr Tag AppliesToExternalKnown{18, 0x0F};
inline constexpr Tag AppliesToExternalUnknown{18, 0x10};
inline constexpr Tag Enabled{18, 0x11};
inline constexpr Tag ReplyMessage{18, 0x12};
inline constexpr Tag BodyType{18, 0x13};
inline constexpr Tag DevicePassword{18, 0x14};
inline constexpr Tag Password{18, 0x15};
inline constexpr Tag DeviceInformation{18, 0x16};
inline constexpr Tag Model{18, 0x17};
inline constexpr Tag IMEI{18, 0x18};
inline constexpr Tag FriendlyName{18, 0x19};
inline constexpr Tag OS{18, 0x1A};
inline constexpr Tag OSLanguage{18, 0x1B};
inline constexpr Tag PhoneNumber{18, 0x1C};
inline constexpr Tag UserInformation{18, 0x1D};
inline constexpr Tag EmailAddresses{18, 0x1E};
inline constexpr Tag SMTPAddress{18, 0x1F};
inline constexpr Tag UserAgent{18, 0x20};
inline constexpr Tag EnableOutboundSMS{18, 0x21};
inline constexpr Tag MobileOperator{18, 0x22};
inline constexpr Tag PrimarySmtpAddress{18, 0x23};
inline constexpr Tag Accounts{18, 0x24};
inline constexpr Tag Account{18, 0x25};
inline constexpr Tag AccountId{18, 0x26};
inline constexpr Tag AccountName{18, 0x27};
inline constexpr Tag UserDisplayName{18, 0x28};
inline constexpr Tag SendDisabled{18, 0x29};
inline constexpr Tag RightsManagementInformation{18, 0x2B};
}  // namespace Settings
namespace DocumentLibrary {
inline constexpr Tag LinkId{19, 0x05};
inline constexpr Tag DisplayName{19, 0x06};
inline constexpr Tag IsFolder{19, 0x07};
inline constexpr Tag CreationDate{19, 0x08};
inline constexpr Tag LastModifiedDate{19, 0x09};
inline constexpr Tag IsHidden{19, 0x0A};
inline constexpr Tag ContentLength{19, 0x0B};
inline constexpr Tag ContentType{19, 0x0C};
}  // namespace DocumentLibrary
namespace ItemOperations {
inline constexpr Tag ItemOperations{20, 0x05};
inline constexpr Tag Fetch{20, 0x06};
inline constexpr Tag Store{20, 0x07};
inline constexpr Tag Options{20, 0x08};
inline constexpr Tag Range{20, 0x09};
inline constexpr Tag Total{20, 0x0A};
inline constexpr Tag Properties{20, 0x0B};
inline constexpr Tag Data{20, 0x0C};
inline constexpr Tag Status{20, 0x0D};
inline constexpr Tag Response{20, 0x0E};
inline constexpr Tag Version{20, 0x0F};
inline constexpr Tag Schema{20, 0x10};
inline constexpr Tag Part{20, 0x11};
inline constexpr Tag EmptyFolderContents{20, 0x12};
inline constexpr Tag DeleteSubFolders{20, 0x13};
inline constexpr Tag UserName{20, 0x14};
inline constexpr Tag Password{20, 0x15};
inline constexpr Tag Move{20, 0x16};
inline constexpr Tag DstFldId{20, 0x17};
inline constexpr Tag ConversationId{20, 0x18};
inline constexpr Tag MoveAlways{20, 0x19};
}  // namespace ItemOperations
namespace ComposeMail {
inline constexpr Tag SendMail{21, 0x05};
inline constexpr Tag SmartForward{21, 0x06};
inline constexpr Tag SmartReply{21, 0x07};
inline constexpr Tag SaveInSentItems{21, 0x08};
inline constexpr Tag ReplaceMime{21, 0x09};
inline constexpr Tag Source{21, 0x0B};
inline constexpr Tag FolderId{21, 0x0C};
inline constexpr Tag ItemId{21, 0x0D};
inline constexpr Tag LongId{21, 0x0E};
inline constexpr Tag InstanceId{21, 0x0F};
inline constexpr Tag Mime{21, 0x10};
inline constexpr Tag ClientId{21, 0x11};
inline constexpr Tag Status{21, 0x12};
inline constexpr Tag AccountId{21, 0x13};
inline constexpr Tag Forwardees{21, 0x15};
inline constexpr Tag Forwardee{21, 0x16};
inline constexpr Tag ForwardeeName{21, 0x17};
inline constexpr Tag ForwardeeEmail{21, 0x18};
}  // namespace ComposeMail
namespace Email2 {
inline constexpr Tag UmCallerID{22, 0x05};
inline constexpr Tag UmUserNotes{22, 0x06};
inline constexpr Tag UmAttDuration{22, 0x07};
inline constexpr Tag UmAttOrder{22, 0x08};
inline constexpr Tag ConversationId{22, 0x09};
inline constexpr Tag ConversationIndex{22, 0x0A};
inline constexpr Tag LastVerbExecuted{22, 0x0B};
inline constexpr Tag LastVerbExecutionTime{22, 0x0C};
inline constexpr Tag ReceivedAsBcc{22, 0x0D};
inline constexpr Tag Sender{22, 0x0E};
inline constexpr Tag CalendarType{22, 0x0F};
inline constexpr Tag IsLeapMonth{22, 0x10};
inline constexpr Tag AccountId{22, 0x11};
inline constexpr Tag FirstDayOfWeek{22, 0x12};
inline constexpr Tag MeetingMessageType{22, 0x13};
inline constexpr Tag IsDraft{22, 0x15};
inline constexpr Tag Bcc{22, 0x16};
inline constexpr Tag Send{22, 0x17};
}  // namespace Email2
namespace Notes {
inline constexpr Tag Subject{23, 0x05};
inline constexpr Tag MessageClass{23, 0x06};
inline constexpr Tag LastModifiedDate{23, 0x07};
inline constexpr Tag Categories{23, 0x08};
inline constexpr Tag Category{23, 0x09};
}  // namespace Notes
namespace RightsManagement {
inline constexpr Tag RightsManagementSupport{24, 0x05};
inline constexpr Tag RightsManagementTemplates{24, 0x06};
inline constexpr Tag RightsManagementTemplate{24, 0x07};
inline constexpr Tag RightsManagementLicense{24, 0x08};
inline constexpr Tag EditAllowed{24, 0x09};
inline constexpr Tag ReplyAllowed{24, 0x0A};
inline constexpr Tag ReplyAllAllowed{24, 0x0B};
inline constexpr Tag ForwardAllowed{24, 0x0C};
inline constexpr Tag ModifyRecipientsAllowed{24, 0x0D};
inline constexpr Tag ExtractAllowed{24, 0x0E};
inline constexpr Tag PrintAllowed{24, 0x0F};
inline constexpr Tag ExportAllowed{24, 0x10};
inline constexpr Tag ProgrammaticAccessAllowed{24, 0x11};
inline constexpr Tag Owner{24, 0x12};
inline constexpr Tag ContentExpiryDate{24, 0x13};
inline constexpr Tag TemplateID{24, 0x14};
inline constexpr Tag TemplateName{24, 0x15};
inline constexpr Tag TemplateDescription{24, 0x16};
inline constexpr Tag ContentOwner{24, 0x17};
inline constexpr Tag RemoveRightsManagementProtection{24, 0x18};
}  // namespace RightsManagement
namespace Find {
inline constexpr Tag Find{25, 0x05};
inline constexpr Tag SearchId{25, 0x06};
inline constexpr Tag ExecuteSearch{25, 0x07};
inline constexpr Tag MailBoxSearchCriterion{25, 0x08};
inline constexpr Tag Query{25, 0x09};
inline constexpr Tag Status{25, 0x0A};
inline constexpr Tag FreeText{25, 0x0B};
inline constexpr Tag Options{25, 0x0C};
inline constexpr Tag Range{25, 0x0D};
inline constexpr Tag DeepTraversal{25, 0x0E};
inline constexpr Tag Response{25, 0x11};
inline constexpr Tag Result{25, 0x12};
inline constexpr Tag Properties{25, 0x13};
inline constexpr Tag Preview{25, 0x14};
inline constexpr Tag HasAttachments{25, 0x15};
inline constexpr Tag Total{25, 0x16};
inline constexpr Tag DisplayCc{25, 0x17};
inline constexpr Tag DisplayBcc{25, 0x18};
inline constexpr Tag GALSearchCriterion{25, 0x19};
inline constexpr Tag MaxPictures{25, 0x20};
inline constexpr Tag MaxSize{25, 0x21};
inline constexpr Tag Picture{25, 0x22};
}  // namespace Find
}  // namespace tags

}  // namespace eas::wbxml

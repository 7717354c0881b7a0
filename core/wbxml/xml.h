// The XML form of a WBXML document, shared with libwbxml2's tools
// (wbxml2xml -l ACTIVESYNC / xml2wbxml). toXml() and xmlToWbxml() are declared
// in wbxml.h; this header names the format's constants. See README.md.
//
//   <?xml version="1.0"?>
//   <!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">
//   <Sync xmlns="AirSync:"><Collections>...<Subject xmlns="Email:">hi</Subject>...
//
// - The root element and every element whose code page differs from its
//   parent's carry a default namespace xmlns="<Page>:". No prefixes are
//   written; prefixed input (xmlns:a="AirSync:") is accepted.
// - Tag names are libwbxml2's (its aliases such as Contacts "BusinessCity",
//   Calendar "Attendee_Email", page 16 as "Gal:") unless
//   XmlOptions::spec_names; the reader accepts both spellings.
// - Content of libwbxml2's binary tags (TagFlags::kBinary, e.g.
//   ComposeMail:Mime, Email2:ConversationId) is base64; the reader turns it
//   back into OPAQUE.
// - Other OPAQUE content that is valid XML text is written as text (it comes
//   back as STR_I, same bytes). Content XML cannot hold (invalid UTF-8,
//   control characters) is base64 with the attribute
//   wbxml-content="opaque-base64" or "string-base64" (libwbxml2 cannot read
//   those; it writes such content as broken XML itself).
#pragma once

#include <string_view>

namespace eas::wbxml {

inline constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\"?>";
inline constexpr std::string_view kXmlDoctype =
    "<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" "
    "\"http://www.microsoft.com/\">";
inline constexpr std::string_view kXmlContentAttribute = "wbxml-content";
inline constexpr std::string_view kXmlOpaqueBase64 = "opaque-base64";
inline constexpr std::string_view kXmlStringBase64 = "string-base64";
inline constexpr std::string_view kXmlMask = "***";

}  // namespace eas::wbxml

// DOCX (Office Open XML): paragraphs of word/document.xml, tables included, packed into chunks.
//
// Design notes:
//  1. The zip is read with Poco::Zip from memory; only word/document.xml is inflated, and never
//     beyond kMaxDocumentXml bytes, so a zip bomb costs at most that much memory.
//  2. Paragraph text is the concatenation of its runs' w:t (w:tab -> tab, w:br -> newline).
//     Paragraphs styled Heading*/Title become the "heading" metadata of the chunks that follow.
//  3. Provenance: a DOCX has no pages or lines we can know without a layout engine, so each
//     chunk records its 1-based paragraph range in metadata ({"paragraphs": [first, last]}).
//  4. Poco reports errors by exception; they are caught here and become kCorruptInput.
#include "extractors.h"

#include "strongbox/core/text.h"

#include <Poco/DOM/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/Node.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/Exception.h>
#include <Poco/SAX/XMLReader.h>
#include <Poco/Zip/ZipArchive.h>
#include <Poco/Zip/ZipStream.h>

#include <sstream>

namespace strongbox::ingest {
namespace {

constexpr size_t kMaxDocumentXml = 64u << 20;

struct DocxParagraph {
    std::string text;
    bool heading = false;
};

void collect_text(Poco::XML::Node * node, std::string & out, bool & heading) {
    for (Poco::XML::Node * child = node->firstChild(); child != nullptr; child = child->nextSibling()) {
        if (child->nodeType() != Poco::XML::Node::ELEMENT_NODE) {
            continue;
        }
        const std::string & name = child->localName();
        if (name == "t") {
            out += child->innerText();
        } else if (name == "tab") {
            out += '\t';
        } else if (name == "br" || name == "cr") {
            out += '\n';
        } else if (name == "pStyle") {
            const std::string style = static_cast<Poco::XML::Element *>(child)->getAttributeNS(
                "http://schemas.openxmlformats.org/wordprocessingml/2006/main", "val");
            heading = heading || style.rfind("Heading", 0) == 0 || style == "Title";
        } else if (name != "delText" && name != "instrText") {
            collect_text(child, out, heading);
        }
    }
}

void collect_paragraphs(Poco::XML::Node * node, std::vector<DocxParagraph> & out) {
    for (Poco::XML::Node * child = node->firstChild(); child != nullptr; child = child->nextSibling()) {
        if (child->nodeType() != Poco::XML::Node::ELEMENT_NODE) {
            continue;
        }
        if (child->localName() == "p") {
            DocxParagraph para;
            collect_text(child, para.text, para.heading);
            out.push_back(std::move(para));
        } else {
            collect_paragraphs(child, out);
        }
    }
}

core::Result<std::string> read_document_xml(std::string_view bytes) {
    std::istringstream in{std::string(bytes)};
    Poco::Zip::ZipArchive archive(in);
    const auto it = archive.findHeader("word/document.xml");
    if (it == archive.headerEnd()) {
        return core::Error(core::ErrorCode::kCorruptInput, "not a DOCX: the zip has no word/document.xml");
    }
    if (it->second.getUncompressedSize() > kMaxDocumentXml) {
        return core::Error(core::ErrorCode::kUnsupported, "word/document.xml is larger than 64 MiB");
    }
    Poco::Zip::ZipInputStream zin(in, it->second);
    std::string xml;
    char buf[16384];
    while (zin.read(buf, sizeof buf) || zin.gcount() > 0) {
        xml.append(buf, static_cast<size_t>(zin.gcount()));
        if (xml.size() > kMaxDocumentXml) {
            return core::Error(core::ErrorCode::kUnsupported, "word/document.xml is larger than 64 MiB");
        }
    }
    return xml;
}

}  // namespace

core::Result<core::ExtractedDocument> extract_docx(const std::filesystem::path & path, std::string_view bytes,
                                                   const std::string & sha256, const IngestOptions & options) {
    if (bytes.substr(0, 4) != std::string_view("PK\x03\x04", 4)) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           bytes.empty() ? "empty file (0 bytes), not a DOCX" : "not a DOCX (not a zip archive)");
    }
    std::vector<DocxParagraph> paragraphs;
    try {
        SB_ASSIGN_OR_RETURN(const std::string xml, read_document_xml(bytes));
        Poco::XML::DOMParser parser;
        parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
        parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
        parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
        Poco::AutoPtr<Poco::XML::Document> dom = parser.parseString(xml);
        collect_paragraphs(dom->documentElement(), paragraphs);
    } catch (const Poco::Exception & e) {
        return core::Error(core::ErrorCode::kCorruptInput, "corrupt DOCX: " + e.displayText());
    } catch (const std::exception & e) {
        return core::Error(core::ErrorCode::kCorruptInput, std::string("corrupt DOCX: ") + e.what());
    }

    core::ExtractedDocument doc =
        new_document(path, bytes, sha256, "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    doc.page_count = 0;
    const core::Provenance base = base_provenance(path, sha256, options, "docx-paragraphs", "1");
    const size_t max_chars = std::max<size_t>(options.max_chunk_chars, 16);
    std::string heading;
    core::Chunk cur;
    int first = 0;
    int last = 0;
    auto flush = [&]() {
        if (!cur.text.empty()) {
            core::Json range = core::Json::array();
            range.push_back(first);
            range.push_back(last);
            cur.metadata["paragraphs"] = range;
            doc.chunks.push_back(std::move(cur));
        }
        cur = core::Chunk{};
    };
    for (size_t i = 0; i < paragraphs.size(); ++i) {
        const std::string text = std::string(core::trim(core::sanitize_utf8(paragraphs[i].text)));
        if (text.empty()) {
            continue;
        }
        if (paragraphs[i].heading) {
            flush();
            heading = text;
        }
        if (!cur.text.empty() && cur.text.size() + 2 + text.size() > max_chars) {
            flush();
        }
        if (cur.text.empty()) {
            cur.provenance = base;
            cur.metadata = core::Json::object();
            if (!heading.empty()) {
                cur.metadata["heading"] = heading;
            }
            first = static_cast<int>(i) + 1;
        } else {
            cur.text += "\n\n";
        }
        cur.text += text;
        last = static_cast<int>(i) + 1;
    }
    flush();
    if (doc.chunks.empty()) {
        doc.warnings.push_back("no text");
    }
    return doc;
}

}  // namespace strongbox::ingest

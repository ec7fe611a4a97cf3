// The outbox (Vault::EnqueueMessage, GetMessage, ListMessages,
// ClaimDeliveries, CompleteDelivery): every outgoing message goes through
// here, so a message for a purpose resting on consent is checked when it is
// queued and again when it is sent.
//
// The recipient of a subject's message is read from the vault at send time
// (an erased subject or a removed number is never messaged); text, email
// subject and any direct address are sealed with the tenant's channel key.
// last_error and audit events never hold an address or text.
#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "crypto/link_token.h"
#include "service/authorize.h"
#include "service/vault.h"
#include "service/vault_internal.h"

namespace custodian::service {
namespace {

using nlohmann::json;
using store::MessageRow;
using store::MessageState;

constexpr std::size_t kMaxShortText = 1600;
constexpr std::size_t kMaxEmailText = 64 * 1024;
constexpr std::size_t kMaxKey = 128;

std::string SealAd(std::string_view id) { return "custodian.outbox.v1:" + std::string(id); }

policy::Normalizer ContactNormalizer(std::string_view channel) {
  return channel == "email" ? policy::Normalizer::kEmail : policy::Normalizer::kPhone;
}

// The categories of `purpose` holding the channel's kind of contact, in
// policy order.
std::set<std::string> ContactCategories(const policy::Policy& policy,
                                        const policy::Purpose& purpose, std::string_view channel) {
  std::set<std::string> out;
  for (const policy::Category& c : policy.categories) {
    if (c.normalize == ContactNormalizer(channel) &&
        std::find(purpose.categories.begin(), purpose.categories.end(), c.key) !=
            purpose.categories.end()) {
      out.insert(c.key);
    }
  }
  return out;
}

MessageStatus StatusOf(const MessageRow& r) {
  MessageStatus s;
  s.id = r.id;
  s.channel = r.channel;
  s.purpose = r.purpose;
  s.subject = r.subject;
  s.state = store::MessageStateName(r.state);
  s.attempts = r.attempts;
  s.last_error = r.last_error;
  s.provider_id = r.provider_id;
  s.created_ms = r.created_ms;
  if (r.state == MessageState::kQueued || r.state == MessageState::kSending) {
    s.next_attempt_ms = r.next_attempt_ms;
  }
  s.sent_ms = r.sent_ms;
  return s;
}

// A queued message, its recipient address (when given), email subject and
// text sealed with the tenant's channel key.
MessageRow NewMessageRow(const TenantContext& t, const std::string& channel,
                         const std::string& subject, const std::string& purpose,
                         const std::string& to, const std::string& email_subject,
                         const std::string& text, int64_t now) {
  MessageRow row;
  row.tenant = t.id;
  row.id = NewId("msg_");
  row.subject = subject;
  row.purpose = purpose;
  row.channel = channel;
  std::string plain = json{{"to", to}, {"email_subject", email_subject}, {"text", text}}.dump();
  row.sealed = t.channel_seal.Seal(plain, SealAd(row.id));
  sodium_memzero(plain.data(), plain.size());
  row.state = MessageState::kQueued;
  row.next_attempt_ms = now;
  row.created_ms = now;
  row.updated_ms = now;
  return row;
}

}  // namespace

Result<std::string> QueueDirectMessage(store::Transaction& tx, const TenantContext& t,
                                       audit::Event base, const std::string& channel,
                                       const std::string& to, const std::string& email_subject,
                                       const std::string& text, int64_t now) {
  MessageRow row = NewMessageRow(t, channel, "", "", to, email_subject, text, now);
  ASSIGN_OR_RETURN(bool inserted, tx.InsertMessage(row));
  (void)inserted;  // no idempotency key: always inserted
  base.action = "message.enqueue";
  base.purpose.clear();
  base.categories.clear();
  base.outcome = "ok";
  base.reason = "channel " + channel;
  base.count = 1;
  RETURN_IF_ERROR(tx.AppendAudit(base).status());
  return row.id;
}

Status CheckMessageRequest(const MessageRequest& m, std::string* field) {
  auto bad = [&](const char* f, Status s) {
    if (field) *field = f;
    return s;
  };
  if (m.channel != "sms" && m.channel != "whatsapp" && m.channel != "email") {
    return bad("channel", Status::InvalidArgument("channel " + Quote(m.channel) +
                                                  " is not known; use sms, whatsapp or email"));
  }
  if (m.subject.empty() == m.to.empty()) {
    return bad("subject",
               Status::InvalidArgument("a message goes to a subject or to an address, not both"));
  }
  if (!m.subject.empty() && m.purpose.empty()) {
    return bad("purpose", Status::InvalidArgument("name the purpose the message serves"));
  }
  const std::size_t max = m.channel == "email" ? kMaxEmailText : kMaxShortText;
  if (m.text.empty() || m.text.size() > max) {
    return bad("text",
               Status::InvalidArgument("the text must be 1 to " + std::to_string(max) + " bytes"));
  }
  if (Status s = crypto::ValidateUtf8(m.text).WithContext("text"); !s.ok()) return bad("text", s);
  if (m.channel != "email" && !m.email_subject.empty()) {
    return bad("email_subject", Status::InvalidArgument("only an email has an email_subject"));
  }
  if (m.email_subject.size() > 998 || m.email_subject.find_first_of("\r\n") != std::string::npos) {
    return bad("email_subject",
               Status::InvalidArgument("the email_subject must be one line of at most 998 bytes"));
  }
  if (Status s = crypto::ValidateUtf8(m.email_subject).WithContext("email_subject"); !s.ok()) {
    return bad("email_subject", s);
  }
  if (m.idempotency_key.size() > kMaxKey) {
    return bad("", Status::InvalidArgument("the idempotency key may be at most 128 bytes"));
  }
  return Status::Ok();
}

Result<MessageStatus> Vault::EnqueueMessage(const Actor& actor, std::string_view tenant,
                                            const MessageRequest& m) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  RETURN_IF_ERROR(CheckMessageRequest(m));
  audit::Event ev = impl_->Event(actor, tenant, "message.enqueue");
  ev.subject = m.subject;
  ev.purpose = m.purpose;
  ev.reason = "channel " + m.channel;
  std::string to;
  if (!m.to.empty()) {
    // Direct addresses are for replies the system itself sends.
    ASSIGN_OR_RETURN(to, m.channel == "email"
                             ? crypto::NormalizeEmail(m.to)
                             : crypto::NormalizePhone(m.to, PhoneRegion(t->policy)));
  } else {
    auto grant = Authorize(t->policy, actor.role, m.purpose);
    Status allowed = grant.status();
    if (allowed.ok() && ContactCategories(t->policy, *grant->purpose, m.channel).empty()) {
      allowed = Status::PermissionDenied(
          "purpose " + Quote(m.purpose) + " may not use a " +
          (m.channel == "email" ? std::string("email address") : std::string("phone number")) +
          ", so it cannot send by " + m.channel);
    }
    if (!allowed.ok()) return impl_->AuditRefusal(ev, allowed);
  }
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  if (!m.idempotency_key.empty()) {
    ASSIGN_OR_RETURN(auto earlier, tx->FindMessageByKey(t->id, m.idempotency_key));
    if (earlier) {
      MessageStatus s = StatusOf(*earlier);
      s.duplicate = true;
      return s;
    }
  }
  if (!m.subject.empty()) {
    ASSIGN_OR_RETURN(store::SubjectRow subject, LiveSubject(*tx, tenant, m.subject));
    const policy::Purpose* p = t->policy.FindPurpose(m.purpose);
    if (Status consent = ConsentAllows(*tx, tenant, *p, subject); !consent.ok()) {
      ev.outcome = "refused";
      ev.reason = consent.message();
      RETURN_IF_ERROR(tx->AppendAudit(ev).status());
      RETURN_IF_ERROR(tx->Commit());
      return consent;
    }
  }
  MessageRow row =
      NewMessageRow(*t, m.channel, m.subject, m.purpose, to, m.email_subject, m.text, impl_->Now());
  row.idempotency_key = m.idempotency_key;
  ASSIGN_OR_RETURN(bool inserted, tx->InsertMessage(row));
  if (!inserted)
    return Status::AlreadyExists("a message with this idempotency key was just queued");
  ev.outcome = "ok";
  ev.count = 1;
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return StatusOf(row);
}

Result<MessageStatus> Vault::GetMessage(const Actor& actor, std::string_view tenant,
                                        std::string_view id) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "message.read");
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "reading the outbox");
      !allowed.ok()) {
    return impl_->AuditRefusal(ev, allowed);
  }
  // A write transaction: the read and its audit event commit together.
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto row, tx->GetMessage(tenant, id));
  if (!row) return Status::NotFound("message " + Quote(id) + " does not exist");
  ev.subject = row->subject;
  ev.outcome = "ok";
  ev.reason = "message " + row->id;
  ev.count = 1;
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return StatusOf(*row);
}

Result<std::vector<MessageStatus>> Vault::ListMessages(const Actor& actor, std::string_view tenant,
                                                       int limit) {
  ASSIGN_OR_RETURN(auto t, TenantFor(tenant));
  audit::Event ev = impl_->Event(actor, tenant, "message.read");
  if (Status allowed = AuthorizeOperator(t->policy, actor.role, "reading the outbox");
      !allowed.ok()) {
    return impl_->AuditRefusal(ev, allowed);
  }
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto rows, tx->ListMessages(tenant, std::clamp(limit, 1, 1000)));
  std::vector<MessageStatus> out;
  std::set<std::string> subjects;
  for (const MessageRow& r : rows) {
    if (!r.subject.empty()) subjects.insert(r.subject);
    out.push_back(StatusOf(r));
  }
  // The subjects whose messages were shown (ids only), and how many messages.
  SetEventSubjects(ev, {subjects.begin(), subjects.end()});
  ev.outcome = "ok";
  ev.count = static_cast<int64_t>(out.size());
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<std::vector<Delivery>> Vault::ClaimDeliveries(int limit, const OutboxOptions& options,
                                                     int64_t* refused) {
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  const int64_t now = impl_->Now();
  ASSIGN_OR_RETURN(auto due, tx->DueMessages(now, limit));
  std::vector<Delivery> out;
  for (MessageRow& row : due) {
    ASSIGN_OR_RETURN(auto t, impl_->Tenant(*tx, row.tenant));
    const Actor worker{"outbox", ""};
    audit::Event ev = impl_->Event(worker, row.tenant, "message.refused");
    ev.subject = row.subject;
    ev.purpose = row.purpose;
    // Everything that may have changed since the message was queued.
    auto refuse = [&](const Status& why) -> Status {
      row.state = MessageState::kRefused;
      row.last_error = why.message();
      if (refused) ++*refused;
      row.updated_ms = now;
      RETURN_IF_ERROR(tx->UpdateMessage(row));
      ev.outcome = "refused";
      ev.reason = why.message();
      return tx->AppendAudit(ev).status();
    };
    auto plain = t->channel_seal.Open(row.sealed, SealAd(row.id));
    if (!plain.ok()) {
      RETURN_IF_ERROR(refuse(Status::DataLoss("the message failed its integrity check")));
      continue;
    }
    json sealed = json::parse(*plain, nullptr, false);
    sodium_memzero(plain->data(), plain->size());
    Delivery d;
    d.tenant = row.tenant;
    d.id = row.id;
    d.channel = row.channel;
    d.to = sealed.value("to", "");
    d.email_subject = sealed.value("email_subject", "");
    d.text = sealed.value("text", "");
    if (!row.subject.empty()) {
      auto subject = LiveSubject(*tx, row.tenant, row.subject);
      if (!subject.ok()) {
        RETURN_IF_ERROR(refuse(Status::FailedPrecondition("the subject no longer exists")));
        continue;
      }
      const policy::Purpose* p = t->policy.FindPurpose(row.purpose);
      if (p == nullptr) {
        RETURN_IF_ERROR(refuse(Status::FailedPrecondition("purpose " + Quote(row.purpose) +
                                                          " is no longer in the policy")));
        continue;
      }
      if (Status consent = ConsentAllows(*tx, row.tenant, *p, *subject); !consent.ok()) {
        RETURN_IF_ERROR(refuse(consent));
        continue;
      }
      ASSIGN_OR_RETURN(SubjectView view,
                       impl_->Project(*t, *subject, ContactCategories(t->policy, *p, row.channel)));
      if (view.fields.empty()) {
        RETURN_IF_ERROR(refuse(Status::FailedPrecondition(
            "the subject has no " +
            std::string(row.channel == "email" ? "email address" : "phone number") +
            " on file for this purpose")));
        continue;
      }
      d.to = view.fields.front().value;
      if (row.channel == "email" && p->basis == policy::LegalBasis::kConsent) {
        // RFC 2369 / RFC 8058: a one-click unsubscribe for this purpose.
        ASSIGN_OR_RETURN(auto settings, LoadChannelSettings(*tx, *t));
        if (!settings.public_url.empty()) {
          ASSIGN_OR_RETURN(
              std::string token,
              crypto::SignLinkToken(t->link_key, {t->id, row.subject, p->key,
                                                  now / 1000 + settings.link_ttl_days * 86400}));
          std::string url = settings.public_url + "/v1/unsubscribe?token=" + token;
          d.headers.emplace_back("List-Unsubscribe", "<" + url + ">");
          d.headers.emplace_back("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
          d.text += "\n\n--\nTo stop these emails: " + url + "\n";
        }
      }
    }
    row.state = MessageState::kSending;
    row.attempts += 1;
    row.next_attempt_ms = now + options.lease_ms;
    row.updated_ms = now;
    RETURN_IF_ERROR(tx->UpdateMessage(row));
    d.attempt = row.attempts;
    out.push_back(std::move(d));
  }
  RETURN_IF_ERROR(tx->Commit());
  return out;
}

Status Vault::CompleteDelivery(const Delivery& delivery, const Status& outcome,
                               std::string_view provider_id, const OutboxOptions& options) {
  ASSIGN_OR_RETURN(auto tx, impl_->store->Begin(true));
  ASSIGN_OR_RETURN(auto found, tx->GetMessage(delivery.tenant, delivery.id));
  if (!found) return Status::NotFound("message " + Quote(delivery.id) + " does not exist");
  MessageRow row = std::move(*found);
  const int64_t now = impl_->Now();
  audit::Event ev = impl_->Event({"outbox", ""}, delivery.tenant, "message.sent");
  ev.subject = row.subject;
  ev.purpose = row.purpose;
  ev.count = row.attempts;
  row.updated_ms = now;
  if (outcome.ok()) {
    row.state = MessageState::kSent;
    row.sent_ms = now;
    row.provider_id = std::string(provider_id.substr(0, 256));
    row.last_error.clear();
    ev.outcome = "ok";
  } else if (outcome.code() == StatusCode::kUnavailable && row.attempts < options.max_attempts) {
    // Exponential backoff with +-20% jitter, so retries from many messages spread out.
    double wait = static_cast<double>(options.base_backoff_ms) *
                  std::pow(2.0, static_cast<double>(row.attempts - 1));
    wait = std::min(wait, static_cast<double>(options.max_backoff_ms));
    double jitter = 0.8 + 0.4 * (randombytes_uniform(10001) / 10000.0);
    row.state = MessageState::kQueued;
    row.next_attempt_ms = now + static_cast<int64_t>(wait * jitter);
    row.last_error = outcome.message().substr(0, 500);
    ev.action = "message.retry";
    ev.outcome = "error";
    ev.reason = row.last_error;
  } else {
    row.state = MessageState::kDead;
    row.last_error = outcome.message().substr(0, 500);
    ev.action = "message.dead";
    ev.outcome = "error";
    ev.reason = row.last_error;
  }
  RETURN_IF_ERROR(tx->UpdateMessage(row));
  RETURN_IF_ERROR(tx->AppendAudit(ev).status());
  return tx->Commit();
}

}  // namespace custodian::service

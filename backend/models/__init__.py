"""All models, imported here so that Alembic and the app see every table."""
from backend.models.identity import AuthSession, ConsoleLoginChallenge, PhoneVerification, User, WechatToken  # noqa: F401
from backend.models.community import (  # noqa: F401
    Binding,
    BindingEvent,
    Community,
    Membership,
    Owner,
    Part,
    PartOwner,
    RegistryImport,
)
from backend.models.outbox import OutboxMessage  # noqa: F401
from backend.models.ratelimit import RateCounter  # noqa: F401
from backend.models.ticket import Ticket, TicketEvent, TicketReply  # noqa: F401
from backend.models.media import Media  # noqa: F401
from backend.models.disclosure import EmergencySpending, PublishedVersion  # noqa: F401
from backend.models.notice import Notice, NoticeRead  # noqa: F401
from backend.models.vote import (DeviceKey, Tally, TreeHead, Vote, VoteEntry, VoteEvent, VoteFrontier,  # noqa: F401
                                 VoteKey, VoteRight, VoteRightOwner)
from backend.models.district import Organisation, ProjectManager, RegulatorScope, ServiceContract, Street  # noqa: F401
from backend.models.inspection import (Circular, FocusInspection, Inspection, Measure, MeasureResponse,  # noqa: F401
                                       WeeklyRollup)
from backend.models.integrity import IntegrityResult, ProvisionalScore  # noqa: F401
from backend.models.mediation import Dispute, DisputeRecord  # noqa: F401
from backend.models.open311 import Open311Client  # noqa: F401

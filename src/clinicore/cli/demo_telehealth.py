"""The telehealth part of ``clinicore demo``: the demo clinic's exam catalog with screening questions,
two partner pharmacies shipping to every served state with order sets for each Rx exam, a small
fictional retail directory (loaded from ``data/demo_pharmacies.csv`` through the importer), the
built-in test providers, one live provider licensed in NY and CA and a medical director licensed in
the same states, both signing in to the provider desk with the password each run prints, and a user
of the first partner pharmacy signing in to the pharmacy desk with the password each run prints.

Everything is looked up before it is created, so running the demo again adds nothing twice. All
names, addresses, phone numbers, NCPDP ids and NDC codes here are fictional (NDCs use the unassigned
labeler code 00000; phone numbers the 555-01xx range).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.accounts import service as accounts_service
from clinicore.core.audit.service import CLI
from clinicore.core.models import Clinic, DeskAccountKind, Exam, PartnerPharmacy, QuestionType, RxType
from clinicore.core.pharmacy import service as pharmacy_service
from clinicore.core.pharmacy.importer import DirectoryFormat, DirectoryReader
from clinicore.core.pharmacy.schemas import DrugItem
from clinicore.core.telehealth import catalog, pharmacy_desk, provider_admin, providers
from clinicore.core.telehealth.catalog import ExamSpec, OptionSpec, QuestionSpec
from clinicore.runtime import Runtime

DEMO_DIRECTORY = Path(__file__).parent / "data" / "demo_pharmacies.csv"
LIVE_PROVIDER_NAME = "Dr. Ana Rivera"
LIVE_PROVIDER_EMAIL = "provider@clinicore.example"
LIVE_PROVIDER_STATES = ("NY", "CA")
MEDICAL_DIRECTOR_NAME = "Dr. Marcus Hale"
MEDICAL_DIRECTOR_EMAIL = "director@clinicore.example"
PHARMACY_USER_NAME = "Priya Shah, PharmD"
PHARMACY_USER_EMAIL = "pharmacy@clinicore.example"

YES_NO = (OptionSpec("Yes"), OptionSpec("No"))
OTHER = OptionSpec("Other", has_free_text=True)
MEDICATIONS = QuestionSpec("List any medications, supplements or allergies you have.", QuestionType.text)

GLP1 = "GLP-1 Weight Loss (Semaglutide)"
HAIR = "Hair Loss Treatment"
UTI = "Urgent Care - UTI"
DEMO_EXAMS = (
    ExamSpec(
        "GFE - Botox",
        RxType.gfe,
        price=Decimal("27.99"),
        questions=(
            QuestionSpec("Are you currently pregnant or breastfeeding?", QuestionType.single, YES_NO),
            QuestionSpec(
                "Do any of these apply to you?",
                QuestionType.multiple,
                (
                    OptionSpec("Neuromuscular disorder (such as myasthenia gravis)"),
                    OptionSpec("Allergy to botulinum toxin"),
                    OptionSpec("Skin infection where the injection will go"),
                    OptionSpec("None of these"),
                    OTHER,
                ),
            ),
            MEDICATIONS,
        ),
    ),
    ExamSpec(
        "GFE - Dermal Fillers",
        RxType.gfe,
        price=Decimal("27.99"),
        questions=(
            QuestionSpec("Have you had a reaction to a dermal filler before?", QuestionType.single, YES_NO),
            QuestionSpec(
                "Which areas would you like treated?",
                QuestionType.multiple,
                (
                    OptionSpec("Lips"),
                    OptionSpec("Cheeks"),
                    OptionSpec("Under-eyes"),
                    OptionSpec("Jawline"),
                    OTHER,
                ),
            ),
            MEDICATIONS,
        ),
    ),
    ExamSpec(
        GLP1,
        RxType.rx,
        price=Decimal("49.00"),
        questions=(
            QuestionSpec(
                "Have you or a close relative had medullary thyroid cancer or MEN 2?",
                QuestionType.single,
                YES_NO,
            ),
            QuestionSpec(
                "Do you have any of these conditions?",
                QuestionType.multiple,
                (
                    OptionSpec("Type 2 diabetes"),
                    OptionSpec("High blood pressure"),
                    OptionSpec("History of pancreatitis"),
                    OptionSpec("Gallbladder disease"),
                    OTHER,
                ),
            ),
            QuestionSpec("What are your current height and weight?", QuestionType.text),
            MEDICATIONS,
        ),
    ),
    ExamSpec(
        HAIR,
        RxType.rx,
        price=Decimal("39.00"),
        attachments_required=True,
        attachments=("Picture of hair loss area",),
        questions=(
            QuestionSpec(
                "How long have you noticed hair loss?",
                QuestionType.single,
                (OptionSpec("Less than 6 months"), OptionSpec("6 to 12 months"), OptionSpec("Over a year")),
            ),
            QuestionSpec(
                "Which treatments have you tried?",
                QuestionType.multiple,
                (OptionSpec("Minoxidil"), OptionSpec("Finasteride"), OptionSpec("Biotin"), OTHER),
            ),
            MEDICATIONS,
        ),
    ),
    ExamSpec(
        UTI,
        RxType.rx,
        price=Decimal("35.00"),
        questions=(
            QuestionSpec(
                "How long have you had symptoms?",
                QuestionType.single,
                (OptionSpec("Less than 2 days"), OptionSpec("2 to 7 days"), OptionSpec("More than a week")),
            ),
            QuestionSpec(
                "Which symptoms do you have?",
                QuestionType.multiple,
                (
                    OptionSpec("Burning when urinating"),
                    OptionSpec("Needing to urinate often"),
                    OptionSpec("Blood in urine"),
                    OptionSpec("Fever or back pain"),
                    OTHER,
                ),
            ),
            MEDICATIONS,
        ),
    ),
)

DEMO_PARTNER_PHARMACIES = (
    {
        "name": "Evergreen Compounding Pharmacy",
        "email": "orders@evergreen-pharmacy.example",
        "phone": "(512) 555-0131",
        "ncpdpid": "9900201",
        "address_line_1": "4100 Commerce Drive",
        "city": "Austin",
        "state": "TX",
        "zip_code": "78744",
    },
    {
        "name": "Harborview Specialty Pharmacy",
        "email": "orders@harborview-pharmacy.example",
        "phone": "(813) 555-0132",
        "ncpdpid": "9900202",
        "address_line_1": "77 Harbor Island Boulevard",
        "city": "Tampa",
        "state": "FL",
        "zip_code": "33602",
    },
)


def _semaglutide(dose: str, vial: str, quantity: str) -> tuple[DrugItem, ...]:
    return (
        DrugItem(
            drug_name="Semaglutide (compounded)",
            strength=vial,
            form="injectable solution",
            ndc="00000-1101-01",
            quantity=quantity,
            quantity_units="mL",
            refills=0,
            days_supply=28,
            directions=f"Inject {dose} under the skin once a week.",
        ),
        DrugItem(
            drug_name="Insulin syringes",
            strength="0.5 mL 31G",  # a complete prescription gives every item a strength (completeness.py)
            form="supply",
            ndc="00000-9901-10",
            quantity="10",
            quantity_units="each",
            days_supply=28,
            directions="Use one new syringe for each injection.",
        ),
    )


# (title, price at the first pharmacy, items) per Rx exam; the second pharmacy charges $10 more.
DEMO_ORDER_SETS: dict[str, tuple[tuple[str, Decimal, tuple[DrugItem, ...]], ...]] = {
    GLP1: (
        (
            "Semaglutide - Dose 1: 0.25 mg/week - 4 weeks",
            Decimal("199.00"),
            _semaglutide("0.25 mg", "2.5 mg/mL", "1"),
        ),
        (
            "Semaglutide - Dose 2: 0.5 mg/week - 4 weeks",
            Decimal("249.00"),
            _semaglutide("0.5 mg", "2.5 mg/mL", "2"),
        ),
    ),
    HAIR: (
        (
            "Finasteride 1 mg - 90 days",
            Decimal("89.00"),
            (
                DrugItem(
                    drug_name="Finasteride",
                    strength="1 mg",
                    form="tablet",
                    ndc="00000-2201-90",
                    quantity="90",
                    quantity_units="tablets",
                    refills=3,
                    days_supply=90,
                    directions="Take 1 tablet by mouth once a day.",
                ),
            ),
        ),
        (
            "Finasteride 1 mg + Minoxidil 5% solution - 90 days",
            Decimal("129.00"),
            (
                DrugItem(
                    drug_name="Finasteride",
                    strength="1 mg",
                    form="tablet",
                    ndc="00000-2201-90",
                    quantity="90",
                    quantity_units="tablets",
                    refills=3,
                    days_supply=90,
                    directions="Take 1 tablet by mouth once a day.",
                ),
                DrugItem(
                    drug_name="Minoxidil",
                    strength="5%",
                    form="topical solution",
                    ndc="00000-2202-60",
                    quantity="180",
                    quantity_units="mL",
                    refills=3,
                    days_supply=90,
                    directions="Apply 1 mL to the scalp twice a day.",
                ),
            ),
        ),
    ),
    UTI: (
        (
            "Nitrofurantoin 100 mg - 5 days",
            Decimal("25.00"),
            (
                DrugItem(
                    drug_name="Nitrofurantoin monohydrate/macrocrystals",
                    strength="100 mg",
                    form="capsule",
                    ndc="00000-3301-10",
                    quantity="10",
                    quantity_units="capsules",
                    days_supply=5,
                    directions="Take 1 capsule by mouth twice a day with food for 5 days.",
                ),
            ),
        ),
        (
            "Trimethoprim-sulfamethoxazole 800/160 mg - 3 days",
            Decimal("20.00"),
            (
                DrugItem(
                    drug_name="Trimethoprim-sulfamethoxazole DS",
                    strength="800 mg/160 mg",
                    form="tablet",
                    ndc="00000-3302-06",
                    quantity="6",
                    quantity_units="tablets",
                    days_supply=3,
                    directions="Take 1 tablet by mouth twice a day for 3 days.",
                ),
            ),
        ),
    ),
}


async def _demo_exams(session: AsyncSession, runtime: Runtime, clinic: Clinic) -> dict[str, Exam]:
    exams = {exam.title: exam for exam in await catalog.list_exams(session, clinic_id=clinic.id)}
    for spec in DEMO_EXAMS:
        if spec.title not in exams:
            exams[spec.title] = await catalog.create_exam(
                session, clinic_id=clinic.id, spec=spec, clock=runtime.clock
            )
    return exams


async def _demo_partner_pharmacies(
    session: AsyncSession, runtime: Runtime, clinic: Clinic, exams: dict[str, Exam]
) -> list[PartnerPharmacy]:
    pharmacies = []
    for surcharge, details in enumerate(DEMO_PARTNER_PHARMACIES):
        pharmacy = await pharmacy_service.partner_pharmacy_by_name(session, name=details["name"])
        if pharmacy is None:
            pharmacy = await pharmacy_service.create_partner_pharmacy(session, clock=runtime.clock, **details)
        pharmacies.append(pharmacy)
        for exam_title, order_sets in DEMO_ORDER_SETS.items():
            exam = exams[exam_title]
            existing = await pharmacy_service.order_sets_for_exam(
                session, clinic_id=clinic.id, pharmacy_id=pharmacy.id, exam_id=exam.id
            )
            titles = {order_set.title for order_set in existing}
            for title, price, items in order_sets:
                if title in titles:
                    continue
                await pharmacy_service.create_order_set(
                    session,
                    clinic_id=clinic.id,
                    pharmacy_id=pharmacy.id,
                    exam_id=exam.id,
                    title=title,
                    price=price + 10 * surcharge,
                    items=items,
                    clock=runtime.clock,
                )
    return pharmacies


async def _demo_directory(session: AsyncSession, runtime: Runtime) -> None:
    with DEMO_DIRECTORY.open(newline="", encoding="utf-8") as stream:
        reader = DirectoryReader(stream, file_format=DirectoryFormat.csv, source_name=DEMO_DIRECTORY.name)
        for batch in reader.batches():
            await pharmacy_service.upsert_retail_pharmacies(
                session, records=batch.records, source="demo", clock=runtime.clock
            )


async def _desk_provider(
    session: AsyncSession,
    runtime: Runtime,
    clinic: Clinic,
    *,
    name: str,
    email: str,
    password: str,
    director: bool,
) -> None:
    """A live provider of the desk the demo clinic works with, licensed in NY and CA (fictional licence
    numbers, valid for a year from each run), whose password each run resets."""
    provider = await providers.provider_by_email(session, email=email)
    if provider is None:
        provider = await providers.create_provider(
            session,
            name=name,
            credentials="MD",
            email=email,
            states=LIVE_PROVIDER_STATES,
            clock=runtime.clock,
        )
    provider.is_medical_director = director
    expires_on = runtime.clock.now().date() + timedelta(days=365)
    for state in LIVE_PROVIDER_STATES:
        await providers.set_license(
            session,
            provider_id=provider.id,
            state=state,
            license_number=f"{state}-DEMO-{'9' if director else '1'}0001",
            expires_on=expires_on,
        )
    await accounts_service.set_password(
        session, kind=DeskAccountKind.provider, account_id=provider.id, password=password, actor=CLI
    )
    await provider_admin.work_with(session, clinic_id=clinic.id, provider_id=provider.id, clock=runtime.clock)


async def _demo_providers(
    session: AsyncSession, runtime: Runtime, clinic: Clinic, *, provider_password: str
) -> None:
    await providers.test_providers(session, clock=runtime.clock)
    await _desk_provider(
        session,
        runtime,
        clinic,
        name=LIVE_PROVIDER_NAME,
        email=LIVE_PROVIDER_EMAIL,
        password=provider_password,
        director=False,
    )
    await _desk_provider(
        session,
        runtime,
        clinic,
        name=MEDICAL_DIRECTOR_NAME,
        email=MEDICAL_DIRECTOR_EMAIL,
        password=provider_password,
        director=True,
    )


async def _demo_pharmacy_user(
    session: AsyncSession, runtime: Runtime, pharmacy: PartnerPharmacy, *, password: str
) -> None:
    """The pharmacy desk's user of the first demo pharmacy, whose password each run resets."""
    user = await pharmacy_desk.pharmacy_user_by_email(session, email=PHARMACY_USER_EMAIL)
    if user is None:
        await pharmacy_desk.create_pharmacy_user(
            session,
            pharmacy_id=pharmacy.id,
            name=PHARMACY_USER_NAME,
            email=PHARMACY_USER_EMAIL,
            password=password,
            actor=CLI,
            clock=runtime.clock,
        )
        return
    await accounts_service.set_password(
        session, kind=DeskAccountKind.pharmacy_user, account_id=user.id, password=password, actor=CLI
    )


async def seed_telehealth_demo(
    session: AsyncSession,
    runtime: Runtime,
    clinic: Clinic,
    *,
    provider_password: str,
    pharmacy_password: str,
) -> None:
    exams = await _demo_exams(session, runtime, clinic)
    pharmacies = await _demo_partner_pharmacies(session, runtime, clinic, exams)
    await _demo_directory(session, runtime)
    await _demo_providers(session, runtime, clinic, provider_password=provider_password)
    await _demo_pharmacy_user(session, runtime, pharmacies[0], password=pharmacy_password)

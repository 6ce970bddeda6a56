"""The default pack against RULE-DEFINITIONS.md, on sentences written for these tests.

Every rule gets reports that must fire it and look-alikes that must not: each "does not fire
on" case of its definition (signing vs ratifying, withdrawals, police, seizures, civilian
nuclear power, economic blocs), denials and passing mentions, in English and Indonesian (and
Malay where its words differ).
"""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest

from streams.engine import Classifier
from streams.models import Article
from streams.rules.packs import load_ruleset, parse_pack
from streams.settings import DEFAULT_PACK

RULE_IDS = {
    "treaty_signed",
    "treaty_ratified",
    "troop_deployment",
    "arms_transfer",
    "nuclear_missile_activity",
    "military_strike",
    "alliance_membership",
    "government_crisis",
    "protest_unrest",
    "diplomatic_meeting",
}


def _cases(table: str) -> list[tuple[str, str, str]]:
    """(rule, language, text) from a table of rule ids, each followed by "  lang sentence" lines."""
    cases, rule = [], ""
    for line in table.strip().splitlines():
        if line.startswith("  "):
            language, text = line.split(maxsplit=1)
            cases.append((rule, language, text))
        else:
            rule = line.strip()
    return cases


# Reports: the rule must fire.
POSITIVE = _cases("""
treaty_signed
  en Russia and North Korea signed a strategic partnership treaty in Pyongyang on Wednesday.
  en The warring parties agreed to a ceasefire that begins at midnight, mediators said.
  en Indonesia and Australia will sign a defence agreement next month, the ministry said.
  id Indonesia dan Vietnam menandatangani perjanjian batas zona ekonomi eksklusif di Jakarta.
  id Israel dan Hamas sepakat melakukan gencatan senjata selama empat hari.
  ms Malaysia dan Singapura memeterai perjanjian sempadan maritim di Putrajaya.
treaty_ratified
  en The Senate ratified the New START treaty by a vote of 71 to 26.
  en The accord entered into force after both sides exchanged instruments of ratification.
  en Parliament approved the free trade agreement with the European Union on Tuesday.
  en President Putin signed into law the mutual defence treaty with North Korea.
  id DPR mengesahkan perjanjian ekstradisi antara Indonesia dan Singapura menjadi undang-undang.
  id Pakta pertahanan kedua negara resmi berlaku setelah pertukaran dokumen ratifikasi.
troop_deployment
  en The Pentagon is sending 3,000 troops to Poland to reassure NATO allies.
  en Britain deployed two warships to the Red Sea on Friday.
  en North Korea has sent about 10,000 soldiers to Russia, South Korea's spy agency said.
  id TNI mengerahkan 2.000 prajurit ke Papua untuk mengamankan pemilu.
  id Rusia berencana menempatkan pasukan di perbatasan Belarus.
  ms Malaysia menghantar 850 anggota tentera ke Lubnan di bawah misi PBB.
arms_transfer
  en Germany will deliver four more air defence systems to Ukraine.
  en Washington approved the sale of 40 F-16 fighter jets to Turkey.
  en North Korea has supplied millions of artillery shells to Russia, according to Seoul.
  id Iran dituduh memasok rudal balistik kepada Rusia.
  id Indonesia membeli 42 jet tempur Rafale dari Prancis.
  ms Amerika Syarikat bersetuju menjual peluru berpandu kepada Taiwan.
nuclear_missile_activity
  en North Korea test-fired an intercontinental ballistic missile on Thursday.
  en Iran has begun enriching uranium to 60 percent purity at Fordow.
  en Russia is giving technical assistance to North Korea's missile programme, NATO said.
  en Pyongyang launched a ballistic missile toward the Sea of Japan early on Monday.
  id Korea Utara kembali melakukan uji coba rudal balistik antarbenua.
  id Iran meningkatkan pengayaan uranium hingga 60 persen.
  id Rusia memberikan dukungan kepada program rudal dan nuklir Korea Utara.
military_strike
  en Israeli warplanes struck targets in southern Lebanon overnight.
  en Russian forces shelled Kharkiv on Sunday, killing three civilians.
  en A drone strike killed a senior al-Shabaab commander in Somalia.
  en Rebels fired rockets at a military base near Goma.
  id Serangan udara Israel menewaskan 20 orang di Gaza.
  id Rusia menembakkan puluhan rudal ke kota-kota di Ukraina.
  ms Serangan udara tentera Myanmar mengorbankan 30 penduduk kampung.
alliance_membership
  en Sweden formally joined NATO on Thursday, becoming its 32nd member.
  en Ukraine applied for NATO membership in September.
  en Alliance leaders invited Finland to join NATO.
  id Finlandia resmi bergabung dengan NATO.
  id Ukraina mengajukan permohonan keanggotaan NATO.
  ms Sweden secara rasmi menyertai NATO.
government_crisis
  en Prime Minister Mario Draghi resigned on Thursday after his coalition fell apart.
  en The French government lost a no-confidence vote in the National Assembly.
  en Soldiers seized power in a coup in Niger and detained the president.
  en The cabinet faces a no-confidence vote in parliament next week.
  id Perdana Menteri Thailand dicopot oleh Mahkamah Konstitusi.
  id Militer Myanmar melakukan kudeta dan menahan Aung San Suu Kyi.
  id Pemerintahan Barnier runtuh setelah kalah dalam mosi tidak percaya.
  ms Perdana Menteri meletakkan jawatan selepas kehilangan majoriti di parlimen.
protest_unrest
  en Thousands of people rallied in Jakarta against the new labour law.
  en Police fired tear gas at protesters outside parliament.
  en Teachers went on strike across the country demanding higher pay.
  en Riots broke out in several cities after the verdict.
  id Ribuan mahasiswa berunjuk rasa di depan gedung DPR.
  id Buruh pelabuhan melakukan mogok kerja selama tiga hari.
  ms Ribuan penunjuk perasaan berhimpun di Kuala Lumpur.
diplomatic_meeting
  en Chinese President Xi Jinping met US President Joe Biden at the G20 summit in Bali.
  en Foreign Minister Retno Marsudi held talks with her Australian counterpart in Canberra.
  en President Putin spoke by phone with Turkish President Erdogan about grain exports.
  en The Russian defence minister visited Pyongyang and met Kim Jong Un.
  id Presiden Prabowo bertemu Perdana Menteri Jepang di Tokyo.
  id Menteri Luar Negeri melakukan kunjungan kerja ke Beijing pekan ini.
  ms Perdana Menteri Malaysia mengadakan lawatan rasmi ke Indonesia.
""")

# Look-alikes: the rule must not fire, though the text is close to its topic.
NEGATIVE = _cases("""
treaty_signed
  en The Duma ratified the treaty with North Korea on Thursday.
  en Negotiators held a third round of talks on a peace agreement, but no deal was reached.
  en The company signed a memorandum of understanding with a Japanese firm on hydrogen.
  en Ukraine refused to sign the agreement drafted in Istanbul.
  en Iran is a signatory to the Non-Proliferation Treaty.
  id Pemerintah membantah telah menandatangani perjanjian rahasia dengan Tiongkok.
  id DPR meratifikasi perjanjian ekstradisi dengan Singapura.
treaty_ratified
  en The two leaders signed the treaty in Moscow in June.
  en Parliament postponed the ratification of the agreement until next year.
  en Lawmakers refused to ratify the treaty.
  en Lawmakers debated the ratification of the treaty for a third day.
  en Parliament passed the 2025 budget law on Friday.
  en The UN Security Council adopted a resolution calling for a ceasefire.
  id Kedua menteri menandatangani nota kesepahaman di Jakarta.
  id Parlemen menolak meratifikasi perjanjian tersebut.
  id Indonesia adalah pihak dalam Traktat Nonproliferasi Nuklir.
troop_deployment
  en The United States will withdraw 2,500 troops from Iraq by the end of the year.
  en Russia pulled out the troops it had sent to Kazakhstan.
  en Police deployed 500 officers around the stadium ahead of the match.
  en Security forces were deployed around the parliament building.
  en Thousands of Russian troops were sent to Belarus for joint military exercises.
  en Ukrainian troops are fighting fierce battles near Bakhmut.
  en Beijing denied sending troops to the border.
  id Amerika Serikat menarik pasukannya dari Afghanistan.
  id Polisi mengerahkan 1.000 personel untuk mengamankan unjuk rasa.
  id Kremlin membantah telah mengirim tentara ke Ukraina.
  id Prajurit TNI dikirim ke Natuna untuk latihan gabungan.
arms_transfer
  en Police seized a cache of weapons and ammunition in a raid on a warehouse.
  en The factory produces 50,000 artillery shells a month for the army.
  en Iran denied supplying weapons to Russia.
  en The rocket delivered a cargo capsule to the International Space Station.
  id Bea Cukai menyita senjata api ilegal yang diselundupkan dari Filipina.
  id Pasukan Ukraina menemukan senjata buatan Korea Utara di medan perang.
  id Tiongkok membantah memasok senjata ke Rusia.
nuclear_missile_activity
  en Indonesia plans to build its first nuclear power plant by 2032.
  en A Russian missile hit an apartment block in Dnipro, killing 40 people.
  en Both countries are parties to the Non-Proliferation Treaty.
  en Iran denies developing nuclear weapons.
  en SpaceX launched a rocket carrying 20 satellites into orbit.
  id Pemerintah akan membangun pembangkit listrik tenaga nuklir pertama di Kalimantan.
  id Rudal Rusia menghantam gedung apartemen di Kyiv.
  id Indonesia menjadi pihak dalam Traktat Nonproliferasi Nuklir sejak 1979.
military_strike
  en Government troops clashed with rebels near the border, leaving 12 dead.
  en North Korea fired a ballistic missile into the sea in its latest weapons test.
  en Police seized rockets and mortar shells hidden in a truck.
  en Iran threatened missile strikes on US bases if it is attacked.
  en The army denied carrying out air strikes on the village.
  en The rocket was launched from Cape Canaveral carrying a weather satellite.
  en Dock workers went on strike at the port of Rotterdam.
  id Pasukan pemerintah bentrok dengan pemberontak di perbatasan.
  id Korea Utara menembakkan rudal balistik ke laut dalam uji coba terbaru.
  id Buruh pabrik mogok kerja menuntut kenaikan upah.
alliance_membership
  en Indonesia joined BRICS as a full member in January.
  en Ukraine wants to join the European Union.
  en NATO member states pledged more aid to Kyiv.
  en Austria ruled out joining NATO.
  en Russia and North Korea signed a mutual defence treaty.
  id Indonesia resmi bergabung dengan BRICS.
  id Timor Leste akan menjadi anggota ASEAN ke-11.
  id Swiss menegaskan tidak akan bergabung dengan NATO.
government_crisis
  en Voters go to the polls on Sunday to elect a new president.
  en The party leader stepped down after an internal dispute.
  en Protesters demanded the resignation of the prime minister.
  en The president refused to resign despite mass protests.
  en Since the 2021 coup, the junta has arrested thousands of activists.
  en The club president resigned after the cup defeat.
  id Mahasiswa menuntut presiden mundur.
  id Pemilihan presiden akan digelar pada bulan Februari.
  id Perdana menteri menolak mundur meski didesak oposisi.
protest_unrest
  en China lodged a formal protest with Japan over the shrine visit.
  en Stocks rallied on Wall Street as investors cheered the rate cut.
  en A Russian strike hit the power plant overnight.
  en Organisers called off the protest planned for Saturday.
  en Soldiers marched into the captured town.
  id Kementerian Luar Negeri melayangkan nota protes kepada Malaysia.
  id Unjuk rasa hari Sabtu dibatalkan.
  id Serangan rudal menghantam pembangkit listrik.
diplomatic_meeting
  en The minister visited flood victims in Central Java on Sunday.
  en The foreign minister said the sanctions were unjustified.
  en The summit between the two leaders was cancelled.
  en The government resumed peace talks with the rebels.
  en The strike will continue until the workers' demands are met.
  id Presiden meninjau lokasi banjir di Demak.
  id Kunjungan Presiden ke Australia dibatalkan.
  id Menteri Luar Negeri menyatakan keprihatinan atas situasi di Gaza.
""")


# Everyday wire-news phrasings (issue: alerts on real news), written for these tests: events
# reported as nouns, rounds of talks, arrivals, closed compounds, and the passing mentions,
# background clauses and figures of speech that must stay quiet.
POSITIVE += _cases("""
treaty_signed
  en The two governments struck a deal in Doha on Friday to reopen the border crossing.
  en Rival factions signed a deal in Cairo to share power in the coastal enclave.
  id Kedua negara menandatangani kerja sama pertahanan di Canberra pada Senin.
  id Pemberontak menandatangani perdamaian dengan pemerintah di Bangkok.
treaty_ratified
  en Lawmakers in Ankara approved Sweden's accession to NATO by 287 votes to 55.
  id DPR mengesahkan RUU kerja sama pertahanan antara Indonesia dan Filipina menjadi undang-undang.
troop_deployment
  en Additional troops will arrive in the border town next week.
  en Two infantry divisions rolled into the northern province overnight.
  id Pasukan tambahan tiba di Jayapura pada Kamis pagi.
  id Kontingen Garuda diberangkatkan ke Lebanon untuk misi perdamaian.
arms_transfer
  en The State Department approved a $500 million sale of Javelin missiles to Poland.
  en Washington will send more Stinger missiles to Kyiv, officials said.
  id Kementerian Pertahanan membeli 12 unit helikopter serang dari Italia.
  id Pengapalan senjata ke Armenia dilakukan atas permintaan Yerevan.
nuclear_missile_activity
  en The missile launch was the third this month, Japan's defence ministry said.
  en Last year's nuclear test deepened the country's isolation.
  id Korea Utara melakukan ujicoba rudal jarak menengah pada Minggu.
  id Ujicoba nuklir kelima itu memicu sanksi baru.
military_strike
  en Artillery shells fired by the rebels landed on a market, killing six people.
  en The missile destroyed a radar station on the coast.
  id Roket itu mendarat di dekat bandara dan merusak dua hanggar.
  id Dua mortir yang ditembakkan oleh milisi itu meledak di dekat asrama tentara.
alliance_membership
  id Swedia resmi bergabung dengan NATO pada Kamis.
  en North Macedonia became a member of NATO in March 2020.
government_crisis
  en The Prime Minister of Nepal, Pushpa Kamal Dahal, resigned on Friday.
  id Perdana Menteri Nepal, Pushpa Kamal Dahal, Jumat, mengundurkan diri.
protest_unrest
  en Hundreds of students gathered in protest outside the ministry.
  en Teachers' unions said the strike would continue until wages were paid.
  id Ribuan buruh berunjukrasa di depan gedung DPR.
  id Massa menentang larangan dan tetap berunjuk rasa di alun-alun.
diplomatic_meeting
  en Regional leaders will convene an emergency summit on the crisis.
  en The third round of talks between the two delegations ended without a statement.
  en Talks between Japan and South Korea resumed in Tokyo on Wednesday.
  id KTT ASEAN dibuka di Vientiane pada Selasa.
  id Kedua pihak membahas kerja sama perdagangan dalam pertemuan di Seoul.
""")

NEGATIVE += _cases("""
treaty_signed
  en Ministers signed a loan agreement worth $40 million with the bank.
  en Both parties agreed on the need for a lasting truce.
  en The rebels called on Jakarta to respect the accord signed in 2005.
  id Negara itu adalah penandatangan Konvensi Senjata Kimia.
  id Pakta Pertahanan Atlantik Utara menyepakati rencana baru dalam pertemuan di Brussel.
treaty_ratified
  en The accord awaits ratification, which parliament will debate next month.
  id Ratifikasi perjanjian itu belum diajukan pemerintah ke DPR.
  id DPR mengesahkan RUU Pendidikan menjadi undang-undang setelah fraksi menyatakan persetujuan.
troop_deployment
  en The troops stationed in Okinawa held a sports day for local children.
  en The constitution bans the stationing of foreign troops on its soil.
  id Pasukan yang ditempatkan di perbatasan tidak terdampak banjir.
  id Pemerintah berjanji memperkuat angkatan bersenjata dengan anggaran baru.
  ms Pasukan bola sepak negara itu tiba di Doha untuk kejohanan.
arms_transfer
  en The minister handed over the ratification of the Treaty on the Prohibition of Nuclear Weapons.
  en A think tank in Berlin said the fuel tank supply was low.
  id Polisi meringkus pembeli senjata api rakitan di Bengkulu.
  id Spanyol mengirim empat jet tempur ke Rumania untuk patroli udara NATO.
nuclear_missile_activity
  en Five nations reached a deal on Iran's nuclear programme after weeks of talks.
  en Russia launched missiles at the port city, killing four people.
  en The Senate voted to cut the number of deployed warheads under the treaty.
  id Traktat itu melarang pengembangan senjata nuklir oleh negara pihak.
military_strike
  en The country test-fired a cruise missile into the sea on Tuesday.
  en The new rocket has a range of 300 kilometres and can hit targets across the region.
  en Special forces found a cache of mortars and rockets in the village.
  id Pemerintah mempercepat pengiriman helikopter serang ke Kabul.
alliance_membership
  id Pasukan Spanyol bergabung dengan angkatan laut NATO di Laut Hitam.
  id Wacana bergabung dengan NATO kembali muncul di Chisinau.
  id NATO membuka pusat latihan gabungan di Riga.
government_crisis
  en The ambassador will hand his resignation to the president on Friday.
  id Pembicaraan pembentukan kabinet koalisi runtuh karena perebutan kursi menteri.
  id Presiden menyerukan agar pertempuran segera dihentikan.
protest_unrest
  en Riot police stood guard outside the embassy.
  en The agency protested that the ruling breached international law.
  en Airstrikes hit the town, opposition activists said, and more strikes followed.
  en The campaign is rallying support for the flood victims.
  id Kerusuhan itu meliputi ledakan bom di sebuah pasar.
diplomatic_meeting
  en The two sides will meet in the cup final on Saturday.
  en The president chaired a cabinet meeting on the budget.
  en Climbers reached the summit of the mountain at dawn.
  en Talks between the two countries have stalled since March.
  en The union's demands must be met before the deadline.
  id Perundingan enam pihak itu pernah menghasilkan kesepakatan pada 2005.
""")


@cache
def classifier() -> Classifier:
    return Classifier(load_ruleset([DEFAULT_PACK]))


def fired(text: str, language: str) -> set[str]:
    article = Article(id="t", body=text, language=language)
    return {alert.rule_id for alert in classifier().classify(article)}


def _case_id(case: tuple[str, str, str]) -> str:
    rule, language, text = case
    return f"{rule}-{language}-{text[:40]}"


@pytest.mark.parametrize("case", POSITIVE, ids=[_case_id(c) for c in POSITIVE])
def test_reports_fire_their_rule(case):
    rule, language, text = case
    assert rule in fired(text, language)


@pytest.mark.parametrize("case", NEGATIVE, ids=[_case_id(c) for c in NEGATIVE])
def test_look_alikes_do_not_fire_the_rule(case):
    rule, language, text = case
    assert rule not in fired(text, language)


def test_every_rule_has_cases_both_ways_in_english_and_indonesian():
    for cases in (POSITIVE, NEGATIVE):
        per_rule = Counter(rule for rule, _, _ in cases)
        assert set(per_rule) == RULE_IDS
        assert min(per_rule.values()) >= 4
        for rule in RULE_IDS:
            assert {"en", "id"} <= {language for r, language, _ in cases if r == rule}


def test_the_pack_has_exactly_the_ten_rules_each_defined_with_what_does_not_count():
    pack = parse_pack(DEFAULT_PACK.read_text(encoding="utf-8"), str(DEFAULT_PACK))
    assert {rule.id for rule in pack.rules} == RULE_IDS
    assert len(pack.rules) == len(RULE_IDS)
    for rule in pack.rules:
        assert rule.description.startswith("Fires "), rule.id
        assert "Does not fire on" in rule.description, rule.id


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The Duma ratified the defence treaty that the two leaders signed in June.", "en"),
        ("Parlemen Rusia meratifikasi pakta pertahanan yang ditandatangani bulan Juni.", "id"),
    ],
)
def test_ratifying_a_signed_treaty_reports_the_ratification(text, language):
    assert "treaty_ratified" in fired(text, language)


def test_a_nato_accession_ratified_fires_both_ratification_and_membership():
    text = "The Hungarian parliament ratified Sweden's accession to NATO on Monday."
    assert {"treaty_ratified", "alliance_membership"} <= fired(text, "en")


@pytest.mark.parametrize(
    ("text", "language", "fires", "not_fires"),
    [
        (
            "A Russian missile hit an apartment block in Dnipro.",
            "en",
            "military_strike",
            "nuclear_missile_activity",
        ),
        (
            "Dock workers went on strike at the port of Rotterdam.",
            "en",
            "protest_unrest",
            "military_strike",
        ),
        (
            "The Duma ratified the treaty with North Korea.",
            "en",
            "treaty_ratified",
            "treaty_signed",
        ),
        (
            "Russia and North Korea signed a mutual defence treaty.",
            "en",
            "treaty_signed",
            "alliance_membership",
        ),
        (
            "Rudal Rusia menghantam gedung apartemen di Kyiv.",
            "id",
            "military_strike",
            "nuclear_missile_activity",
        ),
        (
            "Kedua menteri menandatangani nota kesepahaman di Jakarta.",
            "id",
            "treaty_signed",
            "treaty_ratified",
        ),
    ],
)
def test_a_look_alike_goes_to_the_rule_that_defines_it(text, language, fires, not_fires):
    found = fired(text, language)
    assert fires in found and not_fires not in found

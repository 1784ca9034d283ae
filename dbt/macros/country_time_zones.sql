{#
    The time zone of a listener's home country (an IANA name): for a country of several zones, the zone whose
    standard offset is the first the simulator gives that country (lambdas/core/simulator/catalog.ts,
    HOME_COUNTRIES), its most populous one. A country not listed here is taken as UTC.
    test/dbt/listeners.test.ts checks every simulated country is listed, with a matching standard offset.
#}
{% macro country_time_zone_map() -%}
    {{ return({
        'AE': 'Asia/Dubai', 'AR': 'America/Argentina/Buenos_Aires', 'AT': 'Europe/Vienna',
        'AU': 'Australia/Sydney', 'BE': 'Europe/Brussels', 'BR': 'America/Sao_Paulo', 'CA': 'America/Toronto',
        'CH': 'Europe/Zurich', 'CL': 'America/Santiago', 'CO': 'America/Bogota', 'DE': 'Europe/Berlin',
        'DK': 'Europe/Copenhagen', 'ES': 'Europe/Madrid', 'FI': 'Europe/Helsinki', 'FR': 'Europe/Paris',
        'GB': 'Europe/London', 'ID': 'Asia/Jakarta', 'IE': 'Europe/Dublin', 'IN': 'Asia/Kolkata',
        'IT': 'Europe/Rome', 'JP': 'Asia/Tokyo', 'KE': 'Africa/Nairobi', 'KR': 'Asia/Seoul',
        'MX': 'America/Mexico_City', 'NG': 'Africa/Lagos', 'NL': 'Europe/Amsterdam', 'NO': 'Europe/Oslo',
        'NZ': 'Pacific/Auckland', 'PE': 'America/Lima', 'PH': 'Asia/Manila', 'PL': 'Europe/Warsaw',
        'PT': 'Europe/Lisbon', 'SE': 'Europe/Stockholm', 'SG': 'Asia/Singapore', 'TH': 'Asia/Bangkok',
        'TR': 'Europe/Istanbul', 'US': 'America/New_York', 'VN': 'Asia/Ho_Chi_Minh', 'ZA': 'Africa/Johannesburg'
    }) }}
{%- endmacro %}

{# The map as a relation (country, time_zone), one select per country, in the order above. #}
{% macro country_time_zones() -%}
    {%- set zones = country_time_zone_map() -%}
    {%- for country in zones %}
    select '{{ country }}' as country, '{{ zones[country] }}' as time_zone
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
{%- endmacro %}
